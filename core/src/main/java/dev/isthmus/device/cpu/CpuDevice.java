package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.Activation;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU device: tensors in native memory, two backends behind one class.
 * <ul>
 *   <li>With oneDNN (Debian's libdnnl2), convolutions, pooling, batch norm, activations, additions
 *       and GEMMs run as oneDNN primitives on its OpenMP threads, and image activations are kept
 *       channels-last, the layout its AVX-512 kernels run fastest on.</li>
 *   <li>Without it (or with {@code -Disthmus.cpu.backend=openblas}), convolutions are im2col +
 *       OpenBLAS GEMM, and everything else is Java loops split over the cores by
 *       {@link CpuParallel}; activations stay row-major.</li>
 * </ul>
 * Kernels run one after another, so the thread pools never compete for the cores. Operands in
 * different layouts are brought to one layout through device-owned scratch tensors; a model never
 * mixes layouts, so in training this never happens.
 */
public final class CpuDevice extends Device {
    /** Vector registers are 64 bytes wide on AVX-512; aligned rows keep loads whole. */
    private static final long ALIGNMENT = 64;
    /** Below this many elements a loop is not worth splitting across threads. */
    static final int MIN_PARALLEL_ELEMENTS = 1 << 15;
    private static final byte NO = 'N';
    private static final byte YES = 'T';

    private final int threads;
    private final CpuParallel parallel;
    private final CpuElementwise elementwise;
    private final CpuSoftmax softmax;
    private final CpuOptimizers optimizers;
    private final DnnlRuntime dnnl;
    private final DnnlElementwise dnnlElementwise;
    private final String backendReason;
    private final Tensor[] scratch = new Tensor[4];

    /** A CPU device using every available core. */
    public CpuDevice() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuDevice(int threads) {
        this(threads, CpuBackend.AUTO);
    }

    public CpuDevice(int threads, CpuBackend backend) {
        if (threads < 1) {
            throw new IllegalArgumentException("CpuDevice: threads must be >= 1, got " + threads);
        }
        OpenBlas.require();
        OpenBlas.setThreads(threads);
        this.threads = threads;
        this.parallel = new CpuParallel(threads);
        this.elementwise = new CpuElementwise(parallel);
        this.softmax = new CpuSoftmax(parallel);
        this.optimizers = new CpuOptimizers(parallel);
        if (backend == null) {
            throw new IllegalArgumentException("CpuDevice: backend must not be null");
        }
        String unavailable = switch (backend) {
            case OPENBLAS -> "OpenBLAS chosen";
            case ONEDNN -> DnnlRuntime.unavailableReason(false);
            case AUTO -> DnnlRuntime.unavailableReason(true);
        };
        if (backend == CpuBackend.ONEDNN && unavailable != null) {
            parallel.close();
            throw new IllegalStateException("CpuDevice: oneDNN is unavailable: " + unavailable);
        }
        this.backendReason = unavailable;
        this.dnnl = unavailable == null ? DnnlRuntime.create(threads) : null;
        this.dnnlElementwise = dnnl == null ? null : new DnnlElementwise(dnnl);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public DeviceKind kind() {
        return DeviceKind.CPU;
    }

    public int threads() {
        return threads;
    }

    public CpuParallel parallel() {
        return parallel;
    }

    /** "onednn 2.6.3" or "openblas (why oneDNN is not used)". */
    public String backend() {
        return dnnl != null ? "onednn " + dnnl.version() : "openblas (" + backendReason + ")";
    }

    public boolean usesOneDnn() {
        return dnnl != null;
    }

    @Override
    public Layout activationLayout(Shape shape) {
        return dnnl != null && shape.rank() == 4 ? Layout.CHANNELS_LAST : Layout.ROW_MAJOR;
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Storage allocateStorage(long bytes) {
        // A shared arena per block: any thread may use the tensor, and once the block is freed
        // every access through a stale segment throws instead of touching freed memory.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment = arena.allocate(bytes, ALIGNMENT);
            return new Storage(this, segment, bytes, arena);
        } catch (OutOfMemoryError | RuntimeException failure) {
            arena.close();
            throw new OutOfMemoryError("cpu: cannot allocate " + bytes + " bytes of native memory: " + failure.getMessage());
        }
    }

    @Override
    protected void freeStorage(Storage storage) {
        ((Arena) storage.releaseHandle()).close();
    }

    /**
     * {@code tensor} itself when it has {@code layout}, else a copy in that layout in scratch slot
     * {@code slot} (kept for the next time, so a repeated mismatch allocates once).
     */
    Tensor inLayout(Tensor tensor, Layout layout, int slot) {
        if (tensor.layout() == layout) {
            return tensor;
        }
        Tensor target = scratchTensor(slot, tensor.shape(), tensor.dtype(), layout);
        CpuLayouts.convert(parallel, tensor.shape(), tensor.memory(), tensor.layout(), target.memory(), layout);
        return target;
    }

    /** A scratch tensor of this shape, dtype and layout in {@code slot} (contents undefined). */
    Tensor scratchTensor(int slot, Shape shape, DType dtype, Layout layout) {
        Tensor current = scratch[slot];
        if (current == null || !current.shape().equals(shape) || current.dtype() != dtype || current.layout() != layout) {
            if (current != null) {
                current.close();
            }
            current = allocate(shape, dtype, layout);
            scratch[slot] = current;
        }
        return current;
    }

    /** A row-major tensor to compute {@code destination}'s values into: itself, or scratch slot 3. */
    Tensor rowMajorResult(Tensor destination) {
        return destination.layout() == Layout.ROW_MAJOR ? destination
                : scratchTensor(3, destination.shape(), destination.dtype(), Layout.ROW_MAJOR);
    }

    /** Writes {@code result} (computed in another layout) into {@code destination}. */
    void store(Tensor result, Tensor destination) {
        if (result != destination) {
            CpuLayouts.convert(parallel, result.shape(), result.memory(), result.layout(), destination.memory(),
                    destination.layout());
        }
    }

    // ---------------------------------------------------------------- copies

    @Override
    protected void doCopy(Tensor source, Tensor destination) {
        if (source.layout() == destination.layout()) {
            if (source.memory().address() != destination.memory().address()) {
                MemorySegment.copy(source.memory(), 0, destination.memory(), 0, source.byteSize());
            }
        } else if (source.shape().equals(destination.shape()) || destination.layout() == Layout.ROW_MAJOR) {
            // Into row-major memory the logical order of the source is written, whatever the shapes.
            CpuLayouts.convert(parallel, source.shape(), source.memory(), source.layout(), destination.memory(),
                    destination.layout());
        } else {
            // From row-major memory, read as the logical order of the destination's shape.
            CpuLayouts.convert(parallel, destination.shape(), source.memory(), Layout.ROW_MAJOR, destination.memory(),
                    destination.layout());
        }
    }

    @Override
    protected void doCopyFromHost(MemorySegment source, Tensor destination) {
        if (destination.layout() == Layout.ROW_MAJOR) {
            MemorySegment.copy(source, 0, destination.memory(), 0, destination.byteSize());
        } else {
            CpuLayouts.convert(parallel, destination.shape(), source, Layout.ROW_MAJOR, destination.memory(), destination.layout());
        }
    }

    @Override
    protected void doCopyToHost(Tensor source, MemorySegment destination) {
        if (source.layout() == Layout.ROW_MAJOR) {
            MemorySegment.copy(source.memory(), 0, destination, 0, source.byteSize());
        } else {
            CpuLayouts.convert(parallel, source.shape(), source.memory(), source.layout(), destination, Layout.ROW_MAJOR);
        }
    }

    @Override
    public void synchronize() {
        // Every CPU kernel has finished when its call returns.
    }

    // ---------------------------------------------------------------- GEMM

    /** GEMM without validation, for the device's own plans (their callers validated). */
    void rawGemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                 Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb,
                 float beta, Tensor c, long cOffset, int ldc) {
        doGemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                          Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb,
                          float beta, Tensor c, long cOffset, int ldc) {
        if (dnnl != null) {
            // oneDNN's SGEMM runs on the same OpenMP threads as its other primitives (and uses AVX-512).
            dnnl.configureThisThread();
            DnnlRuntime.check(dnnl_h.dnnl_sgemm(transA ? YES : NO, transB ? YES : NO, m, n, k, alpha, at(a, aOffset), lda,
                    at(b, bOffset), ldb, beta, at(c, cOffset), ldc), "dnnl_sgemm");
            return;
        }
        OpenBlas.sgemm(transA, transB, m, n, k, alpha, at(a, aOffset), lda, at(b, bOffset), ldb, beta, at(c, cOffset), ldc);
    }

    /** The memory of {@code tensor} from element {@code offset} on. */
    private static MemorySegment at(Tensor tensor, long offset) {
        MemorySegment memory = tensor.memory();
        return offset == 0 ? memory : memory.asSlice(offset * Float.BYTES);
    }

    // ---------------------------------------------------------------- element-wise

    @Override
    protected void doFill(Tensor tensor, float value) {
        MemorySegment memory = tensor.memory();
        if (Float.floatToRawIntBits(value) == 0) {
            memory.fill((byte) 0);
            return;
        }
        int count = (int) tensor.elementCount();
        parallel.forRange(count, MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                memory.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
            }
        });
    }

    @Override
    protected void doAxpy(float alpha, Tensor x, Tensor y) {
        Tensor source = inLayout(x, y.layout(), 0);
        OpenBlas.saxpy((int) x.elementCount(), alpha, source.memory(), y.memory());
    }

    @Override
    protected void doScale(Tensor x, float alpha) {
        OpenBlas.sscal((int) x.elementCount(), alpha, x.memory());
    }

    @Override
    protected void doAdd(Tensor a, Tensor b, Tensor out) {
        Tensor left = inLayout(a, out.layout(), 0);
        Tensor right = inLayout(b, out.layout(), 1);
        if (dnnl != null) {
            DnnlPrimitive add = dnnlElementwise.add(out.elementCount());
            add.bind(0, left.memory());
            add.bind(1, right.memory());
            add.bind(2, out.memory());
            add.execute();
            return;
        }
        MemorySegment l = left.memory();
        MemorySegment r = right.memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) out.elementCount(), MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        l.getAtIndex(ValueLayout.JAVA_FLOAT, i) + r.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        });
    }

    @Override
    protected void doMul(Tensor a, Tensor b, Tensor out) {
        MemorySegment l = inLayout(a, out.layout(), 0).memory();
        MemorySegment r = inLayout(b, out.layout(), 1).memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) out.elementCount(), MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        l.getAtIndex(ValueLayout.JAVA_FLOAT, i) * r.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        });
    }

    // ---------------------------------------------------------------- layer kernels

    @Override
    protected ConvolutionPlan newConvolution(ConvGeometry geometry) {
        return dnnl != null ? new DnnlConvolution(this, dnnl, geometry) : new CpuConvolution(this, geometry);
    }

    @Override
    protected PoolingPlan newPooling(PoolGeometry geometry) {
        return dnnl != null ? new DnnlPooling(this, dnnl, geometry) : new CpuPooling(this, geometry);
    }

    @Override
    protected BatchNormPlan newBatchNorm(Shape inputShape) {
        return dnnl != null && inputShape.rank() == 4 ? new DnnlBatchNorm(this, dnnl, inputShape)
                : new CpuBatchNorm(this, inputShape);
    }

    @Override
    protected void doAddBias(Tensor y, Tensor bias) {
        elementwise.addBias(y, bias);
    }

    @Override
    protected void doBiasGradient(Tensor gradOutput, Tensor biasGrad) {
        elementwise.biasGradient(gradOutput, biasGrad);
    }

    // GELU stays in Java: oneDNN's gelu_erf approximates erf to about 1e-4 relative for large |x|,
    // and no canonical model needs its speed.

    @Override
    protected void doActivationForward(Activation function, float alpha, Tensor x, Tensor y) {
        Tensor input = inLayout(x, y.layout(), 0);
        if (dnnl != null && function != Activation.GELU) {
            DnnlPrimitive forward = dnnlElementwise.forward(function, alpha, y.elementCount());
            forward.bind(0, input.memory());
            forward.bind(1, y.memory());
            forward.execute();
            return;
        }
        elementwise.activationForward(function, alpha, input, y);
    }

    @Override
    protected void doActivationBackward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput,
                                        Tensor gradInput) {
        Layout layout = gradInput.layout();
        Tensor input = inLayout(x, layout, 0);
        Tensor output = inLayout(y, layout, 1);
        Tensor upstream = inLayout(gradOutput, layout, 2);
        if (dnnl != null && function != Activation.GELU) {
            DnnlPrimitive backward = dnnlElementwise.backward(function, alpha, gradInput.elementCount());
            backward.bind(0, input.memory());
            backward.bind(1, upstream.memory());
            backward.bind(2, gradInput.memory());
            backward.execute();
            return;
        }
        elementwise.activationBackward(function, alpha, input, output, upstream, gradInput);
    }

    @Override
    protected void doSoftmaxForward(boolean log, Tensor x, Tensor y) {
        Tensor result = y.layout() == Layout.ROW_MAJOR ? y : scratchTensor(3, y.shape(), DType.F32, Layout.ROW_MAJOR);
        softmax.forward(log, inLayout(x, Layout.ROW_MAJOR, 0), result);
        store(result, y);
    }

    @Override
    protected void doSoftmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput) {
        Tensor result = gradInput.layout() == Layout.ROW_MAJOR ? gradInput
                : scratchTensor(3, gradInput.shape(), DType.F32, Layout.ROW_MAJOR);
        softmax.backward(log, inLayout(y, Layout.ROW_MAJOR, 0), inLayout(gradOutput, Layout.ROW_MAJOR, 1), result);
        store(result, gradInput);
    }

    @Override
    protected void doDropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        // The mask is drawn by logical index, so every layout and device draws the same one.
        boolean rowMajor = y.layout() == Layout.ROW_MAJOR && mask.layout() == Layout.ROW_MAJOR;
        Tensor output = rowMajor ? y : scratchTensor(2, y.shape(), DType.F32, Layout.ROW_MAJOR);
        Tensor keep = mask.layout() == Layout.ROW_MAJOR ? mask : scratchTensor(3, mask.shape(), DType.F32, Layout.ROW_MAJOR);
        elementwise.dropoutForward(inLayout(x, Layout.ROW_MAJOR, 0), output, keep, p, seed, counter);
        store(output, y);
        store(keep, mask);
    }

    @Override
    protected void doSoftmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss,
                                         Tensor gradLogits) {
        softmax.crossEntropy(logits, labels, labelSmoothing, loss, gradLogits);
    }

    @Override
    protected void doPointwiseLoss(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss,
                                   Tensor gradInput) {
        Tensor gradient = gradInput == null || gradInput.layout() == input.layout() ? gradInput
                : scratchTensor(3, gradInput.shape(), DType.F32, input.layout());
        CpuLosses.pointwise(kind, beta, input, inLayout(target, input.layout(), 0), loss, gradient);
        if (gradient != null) {
            store(gradient, gradInput);
        }
    }

    @Override
    protected void doSgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                             float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        optimizers.sgd(param, grad, momentumBuffer, lr, momentum, dampening, weightDecay, nesterov, firstStep);
    }

    @Override
    protected void doAdamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1,
                              float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        optimizers.adam(param, grad, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    @Override
    protected void doRmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor gradAvg, Tensor momentumBuffer,
                                 float lr, float alpha, float eps, float weightDecay, float momentum) {
        optimizers.rmsprop(param, grad, squareAvg, gradAvg, momentumBuffer, lr, alpha, eps, weightDecay, momentum);
    }

    @Override
    protected void doAdagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float eps, float weightDecay) {
        optimizers.adagrad(param, grad, sum, clr, eps, weightDecay);
    }

    @Override
    protected double doSumOfSquares(Tensor x) {
        return elementwise.sumOfSquares(x);
    }

    @Override
    protected long doCountNonFinite(Tensor x) {
        return elementwise.countNonFinite(x);
    }

    @Override
    protected void doCountCorrect(Tensor logits, Tensor labels, int k, Tensor counter) {
        CpuMetrics.countCorrect(logits, labels, k, counter);
    }

    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        for (int i = 0; i < scratch.length; i++) {
            if (scratch[i] != null) {
                scratch[i].close();
                scratch[i] = null;
            }
        }
        super.close();
        parallel.close();
        if (dnnlElementwise != null) {
            dnnlElementwise.close();
        }
        if (dnnl != null) {
            dnnl.close();
        }
    }
}
