package dev.isthmus.device.cpu;

import dev.isthmus.bindings.NativeAccess;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.Pooling3dPlan;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The CPU device: tensors in native memory, and one of two engines chosen when it is made.
 * <ul>
 *   <li>With oneDNN (Debian's libdnnl2), convolutions, pooling, batch norm, activations, additions
 *       and GEMMs run as oneDNN primitives on its OpenMP threads, and image activations are kept
 *       channels-last, the layout its AVX-512 kernels run fastest on ({@link DnnlEngine}).</li>
 *   <li>Without it (or with {@code -Disthmus.cpu.backend=openblas}), convolutions are im2col +
 *       OpenBLAS GEMM, and everything else is Java loops split over the cores by
 *       {@link CpuParallel}; activations stay row-major ({@link OpenBlasEngine}).</li>
 * </ul>
 * Kernels run one after another, so the thread pools never compete for the cores. Operands in
 * different layouts are brought to one layout through the device's named scratch tensors
 * ({@link CpuScratch}); a model never mixes layouts, so in training this never happens.
 */
public final class CpuDevice extends Device {
    /** Vector registers are 64 bytes wide on AVX-512; aligned rows keep loads whole. */
    private static final long ALIGNMENT = 64;
    /** Below this many elements a loop is not worth splitting across threads. */
    static final int MIN_PARALLEL_ELEMENTS = 1 << 15;

    private final int threads;
    private final CpuParallel parallel;
    private final CpuEngine engine;
    private final CpuScratch scratch;

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
        if (backend == null) {
            throw new IllegalArgumentException("CpuDevice: backend must not be null");
        }
        NativeAccess.require(CpuDevice.class.getModule(), "opening the CPU device");
        OpenBlas.require();
        OpenBlas.setThreads(threads);
        String unavailable = switch (backend) {
            case OPENBLAS -> "OpenBLAS chosen";
            case ONEDNN -> DnnlRuntime.unavailableReason(false);
            case AUTO -> DnnlRuntime.unavailableReason(true);
        };
        if (backend == CpuBackend.ONEDNN && unavailable != null) {
            throw new IllegalStateException("CpuDevice: oneDNN is unavailable: " + unavailable);
        }
        this.threads = threads;
        this.parallel = new CpuParallel(threads);
        this.engine = unavailable == null ? new DnnlEngine(threads) : new OpenBlasEngine(unavailable);
        this.scratch = new CpuScratch(this);
        CpuSoftmax softmax = new CpuSoftmax(parallel);
        installKernels(new Backends(engine.blas(scratch), engine.elementwise(parallel, scratch),
                engine.activations(parallel, scratch, softmax), new CpuLosses(softmax, scratch),
                new CpuOptimizers(parallel), new CpuReductions()));
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
        return engine.describe();
    }

    public boolean usesOneDnn() {
        return engine instanceof DnnlEngine;
    }

    @Override
    public Layout activationLayout(Shape shape) {
        return engine.activationLayout(shape);
    }

    /** The scratch tensors the plans convert operands through. */
    CpuScratch scratch() {
        return scratch;
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
        if (source.layout() == destination.layout()) {
            if (source.memory().address() != destination.memory().address()) {
                MemorySegment.copy(source.memory(), 0, destination.memory(), 0, source.byteSize());
            }
        } else if (source.shape().equals(destination.shape()) || destination.layout() == Layout.ROW_MAJOR) {
            // Into row-major memory the logical order of the source is written, whatever the shapes.
            relayout(true, source.dtype(), source.shape(), source.memory(), source.layout(), destination.memory(), destination.layout());
        } else {
            // From row-major memory, read as the logical order of the destination's shape.
            relayout(true, source.dtype(), destination.shape(), source.memory(), Layout.ROW_MAJOR, destination.memory(),
                    destination.layout());
        }
    }

    /**
     * F32 through the engine's native reorder where it has one; other types, OpenBLAS, and host
     * memory on the Java heap (which native code cannot read: {@code nativeMemory} false) in Java.
     */
    private void relayout(boolean nativeMemory, DType dtype, Shape shape, MemorySegment source, Layout from, MemorySegment destination, Layout to) {
        if (!nativeMemory || dtype != DType.F32 || shape.rank() != 4 || !engine.relayout(shape, source, from, destination, to)) {
            CpuLayouts.convert(parallel, shape, source, from, destination, to);
        }
    }

    @Override
    protected void doCopyFromHost(MemorySegment source, Tensor destination) {
        if (destination.layout() == Layout.ROW_MAJOR) {
            MemorySegment.copy(source, 0, destination.memory(), 0, destination.byteSize());
        } else {
            relayout(source.isNative(), destination.dtype(), destination.shape(), source, Layout.ROW_MAJOR, destination.memory(), destination.layout());
        }
    }

    @Override
    protected void doCopyToHost(Tensor source, MemorySegment destination) {
        if (source.layout() == Layout.ROW_MAJOR) {
            MemorySegment.copy(source.memory(), 0, destination, 0, source.byteSize());
        } else {
            relayout(destination.isNative(), source.dtype(), source.shape(), source.memory(), source.layout(), destination, Layout.ROW_MAJOR);
        }
    }

    @Override
    public void synchronize() {
        // Every CPU kernel has finished when its call returns.
    }

    // ---------------------------------------------------------------- plans

    @Override
    protected ConvolutionPlan newConvolution(ConvGeometry geometry) {
        return engine.convolution(this, geometry);
    }

    @Override
    protected ConvolutionPlan newConvolution(ConvGeometry geometry, DType operands) {
        return engine.convolution(this, geometry, operands);
    }

    @Override
    protected dev.isthmus.device.InnerProductPlan newInnerProduct(int batch, int inFeatures, int outFeatures, DType operands) {
        return engine.innerProduct(this, batch, inFeatures, outFeatures, operands);
    }

    @Override
    public String convolutionKernel(DType dtype) {
        ensureOpen();
        return engine.convolutionKernel(dtype);
    }

    /** oneDNN's batch norm, eltwise and binary primitives take BF16 wherever its BF16 convolutions are real. */
    @Override
    public boolean carriesLowPrecision(DType dtype) {
        if (dtype != DType.BF16) {
            return false;
        }
        // Asked by every kernel check with a BF16 operand: answered once (the CPU does not change).
        Boolean carries = carriesBf16;
        if (carries == null) {
            carries = usesOneDnn() && lowPrecisionSupport(dtype) == null;
            carriesBf16 = carries;
        }
        return carries;
    }

    private volatile Boolean carriesBf16;

    @Override
    protected String whyNotLowPrecision(DType dtype) {
        return engine.whyNotLowPrecision(dtype);
    }

    @Override
    protected PoolingPlan newPooling(PoolGeometry geometry) {
        return engine.pooling(this, geometry);
    }

    @Override
    protected Convolution3dPlan newConvolution3d(Conv3dGeometry geometry) {
        return engine.convolution3d(this, geometry);
    }

    @Override
    protected Pooling3dPlan newPooling3d(Pool3dGeometry geometry) {
        return engine.pooling3d(this, geometry);
    }

    @Override
    protected BatchNormPlan newBatchNorm(Shape inputShape) {
        return engine.batchNorm(this, inputShape);
    }

    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        scratch.close();
        super.close();
        parallel.close();
        engine.close();
    }
}
