package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where tensors live and every numeric kernel runs. Layers never touch memory directly, so one
 * layer class runs on every device.
 *
 * <p>Each public operation validates its arguments (device, dtype, shapes, index ranges) in Java
 * and only then calls the device's implementation, so a wrong argument is an
 * {@link IllegalArgumentException} naming the operation and the shapes, never a native crash.
 * Operations are asynchronous on devices that queue work; reading results on the host
 * ({@link #copyToHost}) waits for them.
 */
public abstract class Device implements AutoCloseable {
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private final AtomicLong allocations = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicReference<Thread> user = new java.util.concurrent.atomic.AtomicReference<>();
    private int depth;
    private volatile boolean closed;

    /** "cpu", "cuda:0". */
    public abstract String name();

    public abstract DeviceKind kind();

    // ---------------------------------------------------------------- memory

    /** A new zero-filled F32 tensor. */
    public final Tensor allocate(Shape shape) {
        return allocate(shape, DType.F32);
    }

    /** A new zero-filled row-major tensor. */
    public final Tensor allocate(Shape shape, DType dtype) {
        return allocate(shape, dtype, Layout.ROW_MAJOR);
    }

    /** A new zero-filled tensor in the given layout (channels-last needs a rank-4 shape). */
    public final Tensor allocate(Shape shape, DType dtype, Layout layout) {
        ensureOpen();
        if (shape == null || dtype == null || layout == null) {
            throw new IllegalArgumentException("allocate: shape, dtype and layout must not be null");
        }
        if (layout == Layout.CHANNELS_LAST && shape.rank() != 4) {
            throw new IllegalArgumentException("allocate: channels-last needs a rank-4 [N, C, H, W] shape, got " + shape);
        }
        if (!supports(layout)) {
            throw new IllegalArgumentException("allocate: " + name() + " keeps tensors " + Layout.ROW_MAJOR + ", not " + layout);
        }
        long bytes = shape.elementCount() * dtype.byteSize();
        enter();
        try {
            Storage storage = allocateStorage(bytes);
            allocations.incrementAndGet();
            long live = liveBytes.addAndGet(bytes);
            peakBytes.accumulateAndGet(live, Math::max);
            return Tensor.owning(storage, shape, dtype, layout);
        } finally {
            exit();
        }
    }

    /**
     * A new zero-filled F32 tensor for activations (layer outputs and their gradients) in the
     * layout this device computes fastest on; see {@link #activationLayout}.
     */
    public final Tensor allocateActivation(Shape shape) {
        return allocate(shape, DType.F32, activationLayout(shape));
    }

    /** Whether tensors on this device may have {@code layout} (every device supports row-major). */
    public boolean supports(Layout layout) {
        return true;
    }

    /** The layout this device prefers for activations of this shape (row-major unless told otherwise). */
    public Layout activationLayout(Shape shape) {
        return Layout.ROW_MAJOR;
    }

    /** A new F32 tensor holding {@code values}. */
    public final Tensor fromArray(Shape shape, float... values) {
        Tensor tensor = allocate(shape);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException invalid) {
            tensor.close();
            throw invalid;
        }
    }

    /** A new I32 tensor holding {@code values}. */
    public final Tensor fromInts(Shape shape, int... values) {
        Tensor tensor = allocate(shape, DType.I32);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException invalid) {
            tensor.close();
            throw invalid;
        }
    }

    /** Frees a block; called by the owning tensor's close. Freeing twice is harmless. */
    public final void release(Storage storage) {
        if (storage.device() != this) {
            throw new IllegalArgumentException("release: the block belongs to " + storage.device().name()
                    + ", not " + name());
        }
        enter();
        try {
            if (storage.markReleased()) {
                liveBytes.addAndGet(-storage.byteSize());
                freeStorage(storage);
            }
        } finally {
            exit();
        }
    }

    /** Bytes of tensor memory allocated and not yet freed. */
    public final long liveBytes() {
        return liveBytes.get();
    }

    /** How many tensors this device has allocated in all: a steady-state training step must not change it. */
    public final long allocationCount() {
        return allocations.get();
    }

    /** The highest {@link #liveBytes()} seen. */
    public final long peakBytes() {
        return peakBytes.get();
    }

    protected abstract Storage allocateStorage(long bytes);

    protected abstract void freeStorage(Storage storage);

    // ---------------------------------------------------------------- copies and synchronisation

    /** dst ← src, same element count and dtype (shapes may differ, as for a reshape). */
    public final void copy(Tensor source, Tensor destination) {
        final String op = "copy";
        Checks.tensor(op, "source", source, this, source == null ? DType.F32 : source.dtype());
        Checks.tensor(op, "destination", destination, this, source.dtype());
        Checks.sameCount(op, source, "source", destination, "destination");
        enter();
        try {
            doCopy(source, destination);
        } finally {
            exit();
        }
    }

    /** Copies host memory ({@code destination.byteSize()} bytes, native or a Java array) into a tensor. */
    public final void copyFromHost(MemorySegment source, Tensor destination) {
        final String op = "copyFromHost";
        Checks.tensor(op, "destination", destination, this, destination == null ? DType.F32 : destination.dtype());
        if (source == null || source.byteSize() != destination.byteSize()) {
            throw new IllegalArgumentException(op + ": tensor " + destination.shape() + " needs "
                    + destination.byteSize() + " bytes, the host buffer has " + (source == null ? "none" : source.byteSize()));
        }
        enter();
        try {
            doCopyFromHost(source, destination);
        } finally {
            exit();
        }
    }

    /** Copies a tensor to host memory of exactly its size, after the work queued before it finishes. */
    public final void copyToHost(Tensor source, MemorySegment destination) {
        final String op = "copyToHost";
        Checks.tensor(op, "source", source, this, source == null ? DType.F32 : source.dtype());
        if (destination == null || destination.byteSize() != source.byteSize()) {
            throw new IllegalArgumentException(op + ": tensor " + source.shape() + " has " + source.byteSize()
                    + " bytes, the host buffer " + (destination == null ? "is null" : "has " + destination.byteSize()));
        }
        if (destination.isReadOnly()) {
            throw new IllegalArgumentException(op + ": the host buffer is read-only");
        }
        enter();
        try {
            doCopyToHost(source, destination);
        } finally {
            exit();
        }
    }

    /** Waits until all queued work has finished. */
    public abstract void synchronize();

    protected abstract void doCopy(Tensor source, Tensor destination);

    protected abstract void doCopyFromHost(MemorySegment source, Tensor destination);

    protected abstract void doCopyToHost(Tensor source, MemorySegment destination);

    // ---------------------------------------------------------------- BLAS-like kernels

    /**
     * Row-major GEMM: C = alpha · op(A) · op(B) + beta · C, where op(A) is m×k, op(B) is k×n and C
     * is m×n; each matrix starts at an element offset inside its tensor and has a leading
     * dimension (the stride between rows as stored). With beta = 0, C's old contents are ignored.
     */
    public final void gemm(Transpose transA, Transpose transB, int m, int n, int k,
                           float alpha, Tensor a, long aOffset, int lda,
                           Tensor b, long bOffset, int ldb,
                           float beta, Tensor c, long cOffset, int ldc) {
        final String op = "gemm";
        Checks.f32(op, "A", a, this);
        Checks.f32(op, "B", b, this);
        Checks.f32(op, "C", c, this);
        Checks.rowMajor(op, "A", a);
        Checks.rowMajor(op, "B", b);
        Checks.rowMajor(op, "C", c);
        Checks.nonNegative(op, "m", m);
        Checks.nonNegative(op, "n", n);
        Checks.nonNegative(op, "k", k);
        if (transA == null || transB == null) {
            throw new IllegalArgumentException(op + ": transpose flags must not be null");
        }
        boolean ta = transA == Transpose.YES;
        boolean tb = transB == Transpose.YES;
        Checks.matrix(op, ta ? "A (stored k x m)" : "A", a, aOffset, ta ? k : m, ta ? m : k, lda);
        Checks.matrix(op, tb ? "B (stored n x k)" : "B", b, bOffset, tb ? n : k, tb ? k : n, ldb);
        Checks.matrix(op, "C", c, cOffset, m, n, ldc);
        if (c.sharesMemoryWith(a) || c.sharesMemoryWith(b)) {
            throw new IllegalArgumentException(op + ": C " + c.shape() + " must not share memory with A or B");
        }
        if (m == 0 || n == 0) {
            return;
        }
        enter();
        try {
            enter();
        try {
            doGemm(ta, tb, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        } finally {
            exit();
        }
        } finally {
            exit();
        }
    }

    /** Whole-tensor matrix product: C[m,n] = alpha · op(A) · op(B) + beta · C for rank-2 tensors. */
    public final void matmul(Tensor a, Transpose transA, Tensor b, Transpose transB, Tensor c, float alpha, float beta) {
        requireMatrix("A", a);
        requireMatrix("B", b);
        requireMatrix("C", c);
        int m = c.shape().dim(0);
        int n = c.shape().dim(1);
        int k = transA == Transpose.YES ? a.shape().dim(0) : a.shape().dim(1);
        int aRows = transA == Transpose.YES ? a.shape().dim(1) : a.shape().dim(0);
        int bRows = transB == Transpose.YES ? b.shape().dim(1) : b.shape().dim(0);
        int bCols = transB == Transpose.YES ? b.shape().dim(0) : b.shape().dim(1);
        if (aRows != m || bRows != k || bCols != n) {
            throw new IllegalArgumentException("matmul: op(A) " + a.shape() + (transA == Transpose.YES ? "^T" : "")
                    + " x op(B) " + b.shape() + (transB == Transpose.YES ? "^T" : "") + " does not give C " + c.shape());
        }
        gemm(transA, transB, m, n, k, alpha, a, 0, a.shape().dim(1), b, 0, b.shape().dim(1), beta, c, 0, n);
    }

    private static void requireMatrix(String role, Tensor t) {
        if (t == null || t.shape().rank() != 2) {
            throw new IllegalArgumentException("matmul: " + role + " must be a rank-2 tensor, got "
                    + (t == null ? "null" : t.shape()));
        }
    }

    /** Every element of {@code tensor} ← value. */
    public final void fill(Tensor tensor, float value) {
        Checks.f32("fill", "tensor", tensor, this);
        enter();
        try {
            doFill(tensor, value);
        } finally {
            exit();
        }
    }

    /** y ← alpha · x + y. */
    public final void axpy(float alpha, Tensor x, Tensor y) {
        Checks.f32("axpy", "x", x, this);
        Checks.f32("axpy", "y", y, this);
        Checks.sameCount("axpy", x, "x", y, "y");
        enter();
        try {
            doAxpy(alpha, x, y);
        } finally {
            exit();
        }
    }

    /** x ← alpha · x. */
    public final void scale(Tensor x, float alpha) {
        Checks.f32("scale", "x", x, this);
        enter();
        try {
            doScale(x, alpha);
        } finally {
            exit();
        }
    }

    /** out ← a + b, element-wise; out may be a or b. */
    public final void add(Tensor a, Tensor b, Tensor out) {
        elementwiseChecks("add", a, b, out);
        enter();
        try {
            doAdd(a, b, out);
        } finally {
            exit();
        }
    }

    /** out ← a · b, element-wise; out may be a or b. */
    public final void mul(Tensor a, Tensor b, Tensor out) {
        elementwiseChecks("mul", a, b, out);
        enter();
        try {
            doMul(a, b, out);
        } finally {
            exit();
        }
    }

    private void elementwiseChecks(String op, Tensor a, Tensor b, Tensor out) {
        Checks.f32(op, "a", a, this);
        Checks.f32(op, "b", b, this);
        Checks.f32(op, "out", out, this);
        Checks.sameShape(op, a, "a", b, "b");
        Checks.sameShape(op, a, "a", out, "out");
    }

    protected abstract void doGemm(boolean transA, boolean transB, int m, int n, int k,
                                   float alpha, Tensor a, long aOffset, int lda,
                                   Tensor b, long bOffset, int ldb,
                                   float beta, Tensor c, long cOffset, int ldc);

    protected abstract void doFill(Tensor tensor, float value);

    protected abstract void doAxpy(float alpha, Tensor x, Tensor y);

    protected abstract void doScale(Tensor x, float alpha);

    protected abstract void doAdd(Tensor a, Tensor b, Tensor out);

    protected abstract void doMul(Tensor a, Tensor b, Tensor out);

    // ---------------------------------------------------------------- layer kernels

    /** A convolution prepared for {@code geometry}; close it when the layer is done with it. */
    public final ConvolutionPlan convolution(ConvGeometry geometry) {
        ensureOpen();
        if (geometry == null) {
            throw new IllegalArgumentException("convolution: geometry must not be null");
        }
        enter();
        try {
            return newConvolution(geometry);
        } finally {
            exit();
        }
    }

    public final PoolingPlan pooling(PoolGeometry geometry) {
        ensureOpen();
        if (geometry == null) {
            throw new IllegalArgumentException("pooling: geometry must not be null");
        }
        enter();
        try {
            return newPooling(geometry);
        } finally {
            exit();
        }
    }

    /** Batch normalisation over axis 1 of inputs of {@code inputShape} ([N, C, ...]). */
    public final BatchNormPlan batchNorm(Shape inputShape) {
        ensureOpen();
        if (inputShape == null) {
            throw new IllegalArgumentException("batchNorm: input shape must not be null");
        }
        enter();
        try {
            return newBatchNorm(inputShape);
        } finally {
            exit();
        }
    }

    /** y[n, c, ...] += bias[c] for y of shape [N, C, ...] and bias of shape [C]. */
    public final void addBias(Tensor y, Tensor bias) {
        final String op = "addBias";
        Checks.f32(op, "tensor", y, this);
        Checks.f32(op, "bias", bias, this);
        checkPerChannel(op, y, bias);
        enter();
        try {
            doAddBias(y, bias);
        } finally {
            exit();
        }
    }

    /** biasGrad[c] += the sum of dy[n, c, ...] over every n and position. */
    public final void biasGradient(Tensor gradOutput, Tensor biasGrad) {
        final String op = "biasGradient";
        Checks.f32(op, "output gradient", gradOutput, this);
        Checks.f32(op, "bias gradient", biasGrad, this);
        checkPerChannel(op, gradOutput, biasGrad);
        enter();
        try {
            doBiasGradient(gradOutput, biasGrad);
        } finally {
            exit();
        }
    }

    private static void checkPerChannel(String op, Tensor batch, Tensor perChannel) {
        if (batch.shape().rank() < 2 || perChannel.shape().rank() != 1
                || perChannel.shape().dim(0) != batch.shape().dim(1)) {
            throw new IllegalArgumentException(op + ": per-channel tensor " + perChannel.shape()
                    + " does not match the channels (axis 1) of " + batch.shape());
        }
    }

    /** y = f(x) element-wise; {@code alpha} is LeakyReLU's slope or ELU's alpha. y may be x. */
    public final void activationForward(Activation function, float alpha, Tensor x, Tensor y) {
        final String op = "activation forward";
        if (function == null) {
            throw new IllegalArgumentException(op + ": function must not be null");
        }
        Checks.f32(op, "input", x, this);
        Checks.f32(op, "output", y, this);
        Checks.sameShape(op, x, "input", y, "output");
        enter();
        try {
            doActivationForward(function, alpha, x, y);
        } finally {
            exit();
        }
    }

    /** dx = f'(x) · dy, given the forward's input x and output y. dx may be dy. */
    public final void activationBackward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput,
                                         Tensor gradInput) {
        final String op = "activation backward";
        if (function == null) {
            throw new IllegalArgumentException(op + ": function must not be null");
        }
        Checks.f32(op, "input", x, this);
        Checks.f32(op, "output", y, this);
        Checks.f32(op, "output gradient", gradOutput, this);
        Checks.f32(op, "input gradient", gradInput, this);
        Checks.sameShape(op, x, "input", y, "output");
        Checks.sameShape(op, x, "input", gradOutput, "output gradient");
        Checks.sameShape(op, x, "input", gradInput, "input gradient");
        enter();
        try {
            doActivationBackward(function, alpha, x, y, gradOutput, gradInput);
        } finally {
            exit();
        }
    }

    /** Softmax (or log-softmax) over axis 1 of x: [N, C] or [N, C, ...]. */
    public final void softmaxForward(boolean log, Tensor x, Tensor y) {
        final String op = log ? "log-softmax forward" : "softmax forward";
        Checks.f32(op, "input", x, this);
        Checks.f32(op, "output", y, this);
        Checks.sameShape(op, x, "input", y, "output");
        if (x.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " needs at least [N, C]");
        }
        enter();
        try {
            doSoftmaxForward(log, x, y);
        } finally {
            exit();
        }
    }

    /** dx from the forward's output y and dy. */
    public final void softmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput) {
        final String op = log ? "log-softmax backward" : "softmax backward";
        Checks.f32(op, "output", y, this);
        Checks.f32(op, "output gradient", gradOutput, this);
        Checks.f32(op, "input gradient", gradInput, this);
        Checks.sameShape(op, y, "output", gradOutput, "output gradient");
        Checks.sameShape(op, y, "output", gradInput, "input gradient");
        if (y.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": output " + y.shape() + " needs at least [N, C]");
        }
        enter();
        try {
            doSoftmaxBackward(log, y, gradOutput, gradInput);
        } finally {
            exit();
        }
    }

    /**
     * Inverted dropout: mask[i] = 0 with probability p, else 1/(1 − p); y = x · mask. The mask
     * comes from a counter-based generator: element i of call {@code counter} under {@code seed}
     * gets the same draw on every device.
     */
    public final void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        final String op = "dropout forward";
        Checks.f32(op, "input", x, this);
        Checks.f32(op, "output", y, this);
        Checks.f32(op, "mask", mask, this);
        Checks.sameShape(op, x, "input", y, "output");
        Checks.sameShape(op, x, "input", mask, "mask");
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(op + ": p must be in [0, 1), got " + p);
        }
        enter();
        try {
            doDropoutForward(x, y, mask, p, seed, counter);
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- losses

    /**
     * Mean softmax cross-entropy of {@code logits} [N, C] against class indices {@code labels} [N]
     * (I32), with label smoothing as PyTorch defines it. Writes the loss to {@code loss} [1] and,
     * unless null, d loss / d logits to {@code gradLogits}.
     */
    public final void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss,
                                          Tensor gradLogits) {
        final String op = "softmax cross-entropy";
        Checks.f32(op, "logits", logits, this);
        Checks.tensor(op, "labels", labels, this, DType.I32);
        Checks.f32(op, "loss", loss, this);
        if (logits.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": logits " + logits.shape() + " must be [N, C]");
        }
        if (labels.shape().rank() != 1 || labels.shape().dim(0) != logits.shape().dim(0)) {
            throw new IllegalArgumentException(op + ": labels " + labels.shape() + " must be [N] for logits "
                    + logits.shape());
        }
        if (logits.shape().dim(0) == 0) {
            throw new IllegalArgumentException(op + ": the batch is empty");
        }
        if (loss.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": loss must hold one element, got " + loss.shape());
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        if (gradLogits != null) {
            Checks.f32(op, "logits gradient", gradLogits, this);
            Checks.sameShape(op, logits, "logits", gradLogits, "logits gradient");
        }
        enter();
        try {
            doSoftmaxCrossEntropy(logits, labels, labelSmoothing, loss, gradLogits);
        } finally {
            exit();
        }
    }

    /** Mean of an element-wise loss into {@code loss} [1]; unless null, its gradient into {@code gradInput}. */
    public final void pointwiseLoss(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss,
                                    Tensor gradInput) {
        final String op = "pointwise loss";
        Checks.f32(op, "input", input, this);
        Checks.f32(op, "target", target, this);
        Checks.f32(op, "loss", loss, this);
        Checks.sameShape(op, input, "input", target, "target");
        if (input.elementCount() == 0) {
            throw new IllegalArgumentException(op + ": the input is empty");
        }
        if (loss.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": loss must hold one element, got " + loss.shape());
        }
        if (kind == PointwiseLoss.SMOOTH_L1 && !(beta > 0)) {
            throw new IllegalArgumentException(op + ": beta must be > 0, got " + beta);
        }
        if (gradInput != null) {
            Checks.f32(op, "input gradient", gradInput, this);
            Checks.sameShape(op, input, "input", gradInput, "input gradient");
        }
        enter();
        try {
            doPointwiseLoss(kind, beta, input, target, loss, gradInput);
        } finally {
            exit();
        }
    }

    // ---------------------------------------------------------------- optimizer updates

    /**
     * PyTorch's SGD: g = grad + weightDecay·param; with momentum, buf = g on the first step, else
     * momentum·buf + (1 − dampening)·g, and g = g + momentum·buf (Nesterov) or buf; param −= lr·g.
     * {@code momentumBuffer} is null when momentum is 0.
     */
    public final void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                              float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        final String op = "sgd step";
        checkUpdate(op, param, grad);
        if (momentum != 0) {
            checkState(op, "momentum buffer", param, momentumBuffer);
        }
        enter();
        try {
            doSgdStep(param, grad, momentum != 0 ? momentumBuffer : null, lr, momentum, dampening, weightDecay, nesterov,
                    firstStep);
        } finally {
            exit();
        }
    }

    /**
     * PyTorch's Adam (decoupled = false) and AdamW (decoupled = true) at step {@code step} (from 1):
     * m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; param −= lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps).
     */
    public final void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1,
                               float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        final String op = decoupled ? "adamw step" : "adam step";
        checkUpdate(op, param, grad);
        checkState(op, "exp_avg", param, expAvg);
        checkState(op, "exp_avg_sq", param, expAvgSq);
        Checks.positive(op, "step", step);
        enter();
        try {
            doAdamStep(param, grad, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        } finally {
            exit();
        }
    }

    /**
     * PyTorch's RMSprop: sq = α·sq + (1 − α)·g²; avg = sqrt(sq − ga²) + eps when centered (ga, the
     * running mean of g, is non-null), else sqrt(sq) + eps; with momentum buf = μ·buf + g/avg and
     * param −= lr·buf, else param −= lr·g/avg.
     */
    public final void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor gradAvg, Tensor momentumBuffer,
                                  float lr, float alpha, float eps, float weightDecay, float momentum) {
        final String op = "rmsprop step";
        checkUpdate(op, param, grad);
        checkState(op, "square_avg", param, squareAvg);
        if (gradAvg != null) {
            checkState(op, "grad_avg", param, gradAvg);
        }
        if (momentum != 0) {
            checkState(op, "momentum buffer", param, momentumBuffer);
        }
        enter();
        try {
            doRmspropStep(param, grad, squareAvg, gradAvg, momentum != 0 ? momentumBuffer : null, lr, alpha, eps,
                    weightDecay, momentum);
        } finally {
            exit();
        }
    }

    /** PyTorch's Adagrad with the step's decayed rate {@code clr}: sum += g²; param −= clr·g/(sqrt(sum) + eps). */
    public final void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float eps, float weightDecay) {
        final String op = "adagrad step";
        checkUpdate(op, param, grad);
        checkState(op, "sum", param, sum);
        enter();
        try {
            doAdagradStep(param, grad, sum, clr, eps, weightDecay);
        } finally {
            exit();
        }
    }

    private void checkUpdate(String op, Tensor param, Tensor grad) {
        Checks.f32(op, "parameter", param, this);
        Checks.f32(op, "gradient", grad, this);
        Checks.sameShape(op, param, "parameter", grad, "gradient");
    }

    private void checkState(String op, String role, Tensor param, Tensor state) {
        Checks.f32(op, role, state, this);
        Checks.sameShape(op, param, "parameter", state, role);
    }

    // ---------------------------------------------------------------- reductions (read on the host)

    /** Σ x² in double precision (waits for the device). */
    public final double sumOfSquares(Tensor x) {
        Checks.f32("sumOfSquares", "tensor", x, this);
        enter();
        try {
            return doSumOfSquares(x);
        } finally {
            exit();
        }
    }

    /** How many elements are NaN or infinite (waits for the device). */
    public final long countNonFinite(Tensor x) {
        Checks.f32("countNonFinite", "tensor", x, this);
        enter();
        try {
            return doCountNonFinite(x);
        } finally {
            exit();
        }
    }

    protected abstract ConvolutionPlan newConvolution(ConvGeometry geometry);

    protected abstract PoolingPlan newPooling(PoolGeometry geometry);

    protected abstract BatchNormPlan newBatchNorm(Shape inputShape);

    protected abstract void doAddBias(Tensor y, Tensor bias);

    protected abstract void doBiasGradient(Tensor gradOutput, Tensor biasGrad);

    protected abstract void doActivationForward(Activation function, float alpha, Tensor x, Tensor y);

    protected abstract void doActivationBackward(Activation function, float alpha, Tensor x, Tensor y,
                                                 Tensor gradOutput, Tensor gradInput);

    protected abstract void doSoftmaxForward(boolean log, Tensor x, Tensor y);

    protected abstract void doSoftmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput);

    protected abstract void doDropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter);

    protected abstract void doSoftmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss,
                                                  Tensor gradLogits);

    protected abstract void doPointwiseLoss(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss,
                                            Tensor gradInput);

    protected abstract void doSgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                                      float dampening, float weightDecay, boolean nesterov, boolean firstStep);

    protected abstract void doAdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr,
                                       float beta1, float beta2, float eps, float weightDecay, boolean decoupled,
                                       int step);

    protected abstract void doRmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor gradAvg,
                                          Tensor momentumBuffer, float lr, float alpha, float eps, float weightDecay,
                                          float momentum);

    protected abstract void doAdagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float eps,
                                          float weightDecay);

    protected abstract double doSumOfSquares(Tensor x);

    protected abstract long doCountNonFinite(Tensor x);

    // ---------------------------------------------------------------- one operation at a time

    /**
     * Marks the start of native work by the calling thread. A device runs one operation at a time:
     * its plans and scratch memory are shared, and a tensor freed by one thread while another's
     * native call holds its address would crash the JVM. So a second thread is refused, with a
     * message, rather than let in. Nested calls from the same thread (a plan calling the device)
     * are fine.
     */
    protected final void enter() {
        Thread current = Thread.currentThread();
        if (user.get() != current && !user.compareAndSet(null, current)) {
            Thread other = user.get();
            throw new IllegalStateException("device " + name() + " is in use by thread '"
                    + (other == null ? "?" : other.getName()) + "' and runs one operation at a time; give each thread its own"
                    + " device, or hand the work to one thread");
        }
        depth++;
    }

    protected final void exit() {
        if (--depth == 0) {
            user.set(null);
        }
    }

    // ---------------------------------------------------------------- lifecycle

    protected final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("device " + name() + " is closed");
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Releases the device's own resources (handles, pools). Tensors still open become unusable. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return name();
    }
}
