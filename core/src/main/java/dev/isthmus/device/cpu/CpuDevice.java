package dev.isthmus.device.cpu;

import dev.isthmus.device.Activation;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU device: tensors in native memory, GEMM through OpenBLAS, the other kernels as Java
 * loops split over the cores by {@link CpuParallel}. Loops and OpenBLAS never run at the same
 * time (the device issues one kernel after another), so the two never compete for cores.
 */
public final class CpuDevice extends Device {
    /** Vector registers are 64 bytes wide on AVX-512; aligned rows keep loads whole. */
    private static final long ALIGNMENT = 64;
    /** Below this many elements a loop is not worth splitting across threads. */
    static final int MIN_PARALLEL_ELEMENTS = 1 << 15;

    private final int threads;
    private final CpuParallel parallel;
    private final CpuElementwise elementwise;
    private final CpuSoftmax softmax;
    private final CpuOptimizers optimizers;

    /** A CPU device using every available core. */
    public CpuDevice() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuDevice(int threads) {
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

    // ---------------------------------------------------------------- copies

    @Override
    protected void doCopy(Tensor source, Tensor destination) {
        if (source.memory().address() != destination.memory().address()) {
            MemorySegment.copy(source.memory(), 0, destination.memory(), 0, source.byteSize());
        }
    }

    @Override
    protected void doCopyFromHost(MemorySegment source, Tensor destination) {
        MemorySegment.copy(source, 0, destination.memory(), 0, destination.byteSize());
    }

    @Override
    protected void doCopyToHost(Tensor source, MemorySegment destination) {
        MemorySegment.copy(source.memory(), 0, destination, 0, source.byteSize());
    }

    @Override
    public void synchronize() {
        // Every CPU kernel has finished when its call returns.
    }

    // ---------------------------------------------------------------- kernels

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
        OpenBlas.sgemm(transA, transB, m, n, k, alpha,
                at(a, aOffset), lda, at(b, bOffset), ldb, beta, at(c, cOffset), ldc);
    }

    /** The memory of {@code tensor} from element {@code offset} on. */
    private static MemorySegment at(Tensor tensor, long offset) {
        MemorySegment memory = tensor.memory();
        return offset == 0 ? memory : memory.asSlice(offset * Float.BYTES);
    }

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
        OpenBlas.saxpy((int) x.elementCount(), alpha, x.memory(), y.memory());
    }

    @Override
    protected void doScale(Tensor x, float alpha) {
        OpenBlas.sscal((int) x.elementCount(), alpha, x.memory());
    }

    @Override
    protected void doAdd(Tensor a, Tensor b, Tensor out) {
        MemorySegment left = a.memory();
        MemorySegment right = b.memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) a.elementCount(), MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        left.getAtIndex(ValueLayout.JAVA_FLOAT, i) + right.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        });
    }

    @Override
    protected void doMul(Tensor a, Tensor b, Tensor out) {
        MemorySegment left = a.memory();
        MemorySegment right = b.memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) a.elementCount(), MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        left.getAtIndex(ValueLayout.JAVA_FLOAT, i) * right.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        });
    }

    // ---------------------------------------------------------------- layer kernels

    @Override
    protected ConvolutionPlan newConvolution(ConvGeometry geometry) {
        return new CpuConvolution(this, geometry);
    }

    @Override
    protected PoolingPlan newPooling(PoolGeometry geometry) {
        return new CpuPooling(this, geometry);
    }

    @Override
    protected BatchNormPlan newBatchNorm(Shape inputShape) {
        return new CpuBatchNorm(this, inputShape);
    }

    @Override
    protected void doAddBias(Tensor y, Tensor bias) {
        elementwise.addBias(y, bias);
    }

    @Override
    protected void doBiasGradient(Tensor gradOutput, Tensor biasGrad) {
        elementwise.biasGradient(gradOutput, biasGrad);
    }

    @Override
    protected void doActivationForward(Activation function, float alpha, Tensor x, Tensor y) {
        elementwise.activationForward(function, alpha, x, y);
    }

    @Override
    protected void doActivationBackward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput,
                                        Tensor gradInput) {
        elementwise.activationBackward(function, alpha, x, y, gradOutput, gradInput);
    }

    @Override
    protected void doSoftmaxForward(boolean log, Tensor x, Tensor y) {
        softmax.forward(log, x, y);
    }

    @Override
    protected void doSoftmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput) {
        softmax.backward(log, y, gradOutput, gradInput);
    }

    @Override
    protected void doDropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        elementwise.dropoutForward(x, y, mask, p, seed, counter);
    }

    @Override
    protected void doSoftmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss,
                                         Tensor gradLogits) {
        softmax.crossEntropy(logits, labels, labelSmoothing, loss, gradLogits);
    }

    @Override
    protected void doPointwiseLoss(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss,
                                   Tensor gradInput) {
        CpuLosses.pointwise(kind, beta, input, target, loss, gradInput);
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
    public void close() {
        super.close();
        parallel.close();
    }
}
