package dev.isthmus.device.cuda;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.cublas.cublas_h;
import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.Activation;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.device.PointwiseLoss;
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
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An NVIDIA GPU: the primary context of one device, one stream, cuBLAS and cuDNN handles bound to
 * it, the PTX kernels of native/kernels.cu, and a caching allocator. Work is queued on the stream
 * and the host waits only where it reads a result (copyToHost, the reductions, synchronize).
 * Host-to-device copies go through a pinned staging buffer. Set ISTHMUS_CUDA_SYNC=1 (or
 * -Disthmus.cuda.sync=true) to synchronise and check after every operation, so that an
 * asynchronous failure is reported by the operation that caused it; ISTHMUS_CUDA_TF32=1 to let
 * cuBLAS and cuDNN round FP32 inputs to TF32; ISTHMUS_CUDA_DETERMINISTIC=1 (or
 * -Disthmus.cuda.deterministic=true) to run only convolution algorithms whose results do not vary
 * from run to run.
 */
public final class CudaDevice extends Device {
    private final int ordinal;
    private final int computeCapability;
    private final String name;
    private final MemorySegment context;
    private final CudaContextGuard contextGuard;
    private final MemorySegment stream;
    private final MemorySegment cublas;
    private final MemorySegment cudnn;
    private final CudaKernels kernels;
    private final CudaAllocator allocator = new CudaAllocator(CudaAllocator.DRIVER);
    /** The storages not yet freed: at close their memory goes back to the driver and they are marked freed. */
    private final Set<Storage> openStorages = ConcurrentHashMap.newKeySet();
    private final CudaElementwise elementwise;
    private final CudaLosses losses;
    private final CudaReductions reductions;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment one;
    private final MemorySegment zero;
    private final boolean syncEveryOperation;
    private final boolean tf32;
    private final boolean deterministic;
    private final PinnedStaging staging = new PinnedStaging(PinnedStaging.DRIVER);
    private final MemorySegment stagingEvent;

    public CudaDevice(int ordinal) {
        NativeLibrary.CUBLAS.load();
        NativeLibrary.CUDNN.load();
        CudaDriver.initialize();
        this.ordinal = ordinal;
        int device = CudaDriver.device(ordinal);
        int major = CudaDriver.attribute(device, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR());
        int minor = CudaDriver.attribute(device, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR());
        if (major * 10 + minor < 75) {
            throw new IllegalStateException("cuda:" + ordinal + " (" + CudaDriver.deviceName(device) + ") has compute capability "
                    + major + "." + minor + "; Isthmus's kernels need 7.5 (Turing) or newer");
        }
        long cudnnVersion = cudnn_h.cudnnGetVersion();
        if (cudnnVersion < 8000) {
            throw new IllegalStateException("cuDNN " + cudnnVersion + " found at " + NativeLibrary.CUDNN.load().location()
                    + "; Isthmus needs cuDNN 8 or 9. HINT: point -Disthmus.library.cudnn at a newer libcudnn.so");
        }
        this.computeCapability = major * 10 + minor;
        this.name = "cuda:" + ordinal;
        this.syncEveryOperation = Boolean.getBoolean("isthmus.cuda.sync") || "1".equals(System.getenv("ISTHMUS_CUDA_SYNC"));
        this.tf32 = "1".equals(System.getenv("ISTHMUS_CUDA_TF32"));
        this.deterministic = Boolean.getBoolean("isthmus.cuda.deterministic")
                || "1".equals(System.getenv("ISTHMUS_CUDA_DETERMINISTIC"));
        // Each resource is released again, last first, when a later step fails: a device that does
        // not finish starting holds nothing, and `auto` falls back to the CPU clean.
        BuildUndo undo = new BuildUndo();
        undo.push("close the host arena", arena::close);
        try {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            CudaDriver.check(cuda_h.cuDevicePrimaryCtxRetain(out, device), "cuDevicePrimaryCtxRetain");
            this.context = out.get(ValueLayout.ADDRESS, 0);
            undo.push("cuDevicePrimaryCtxRelease", () -> cuda_h.cuDevicePrimaryCtxRelease_v2(device));
            this.contextGuard = new CudaContextGuard(context, CudaContextGuard.DRIVER, arena);
            enterContext();
            CudaDriver.check(cuda_h.cuStreamCreate(out, cuda_h.CU_STREAM_NON_BLOCKING()), "cuStreamCreate");
            MemorySegment createdStream = out.get(ValueLayout.ADDRESS, 0);
            this.stream = createdStream;
            undo.push("cuStreamDestroy", () -> cuda_h.cuStreamDestroy_v2(createdStream));
            CudaDriver.check(cuda_h.cuEventCreate(out, cuda_h.CU_EVENT_DISABLE_TIMING()), "cuEventCreate");
            MemorySegment event = out.get(ValueLayout.ADDRESS, 0);
            this.stagingEvent = event;
            undo.push("cuEventDestroy", () -> cuda_h.cuEventDestroy_v2(event));
            Cublas.check(cublas_h.cublasCreate_v2(out), "cublasCreate");
            MemorySegment blas = out.get(ValueLayout.ADDRESS, 0);
            this.cublas = blas;
            undo.push("cublasDestroy", () -> cublas_h.cublasDestroy_v2(blas));
            Cublas.check(cublas_h.cublasSetStream_v2(cublas, stream), "cublasSetStream");
            Cublas.check(cublas_h.cublasSetPointerMode_v2(cublas, cublas_h.CUBLAS_POINTER_MODE_HOST()), "cublasSetPointerMode");
            Cublas.check(cublas_h.cublasSetMathMode(cublas, tf32 ? cublas_h.CUBLAS_TF32_TENSOR_OP_MATH()
                    : cublas_h.CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");
            Cudnn.check(cudnn_h.cudnnCreate(out), "cudnnCreate");
            MemorySegment dnn = out.get(ValueLayout.ADDRESS, 0);
            this.cudnn = dnn;
            undo.push("cudnnDestroy", () -> cudnn_h.cudnnDestroy(dnn));
            Cudnn.check(cudnn_h.cudnnSetStream(cudnn, stream), "cudnnSetStream");
            CudaKernels module = new CudaKernels();
            this.kernels = module;
            undo.push("cuModuleUnload (kernels.ptx)", module::close);
            this.one = arena.allocate(ValueLayout.JAVA_FLOAT);
            this.one.set(ValueLayout.JAVA_FLOAT, 0, 1f);
            this.zero = arena.allocate(ValueLayout.JAVA_FLOAT);
            undo.push("free the device memory", () -> {
                cuda_h.cuStreamSynchronize(createdStream);
                allocator.close();
            });
            // One host cell for every scalar read: copied on the work stream, after the kernel that
            // wrote the value, then one wait.
            ScalarReadback readback = new ScalarReadback(arena, (host, address, bytes) -> {
                CudaDriver.check(cuda_h.cuMemcpyDtoHAsync_v2(host, address, bytes, createdStream),
                        "cuMemcpyDtoHAsync (scalar read)");
                CudaDriver.check(cuda_h.cuStreamSynchronize(createdStream), "cuStreamSynchronize (scalar read)");
            });
            this.elementwise = new CudaElementwise(this, kernels);
            this.losses = new CudaLosses(this, kernels, readback);
            this.reductions = new CudaReductions(this, kernels, readback);
            installKernels(new Backends(new CudaBlas(this, arena), elementwise, elementwise, losses,
                    new CudaOptimizers(this, kernels), reductions));
        } catch (RuntimeException | Error failure) {
            undo.undoAll(failure);
            throw failure;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DeviceKind kind() {
        return DeviceKind.CUDA;
    }

    public int ordinal() {
        return ordinal;
    }

    /** Device bytes held from the driver (in use or cached for reuse). */
    public long reservedBytes() {
        return allocator.reservedBytes();
    }

    public long peakReservedBytes() {
        return allocator.peakReservedBytes();
    }

    @Override
    public boolean supports(Layout layout) {
        return layout == Layout.ROW_MAJOR;
    }

    // ---------------------------------------------------------------- plumbing for the plans

    MemorySegment cudnn() {
        return cudnn;
    }

    MemorySegment cublas() {
        return cublas;
    }

    MemorySegment stream() {
        return stream;
    }

    /** The one-thread guard with this device's context current, for the NCCL calls made outside the kernel families. */
    Device.Guard enterForCollective() {
        return enter();
    }

    MemorySegment one() {
        return one;
    }

    MemorySegment zero() {
        return zero;
    }

    boolean tf32() {
        return tf32;
    }

    boolean deterministic() {
        return deterministic;
    }

    /** Gives the cached free blocks back to the driver, so that cudnnFind has room to try every algorithm. */
    void releaseCachedMemory() {
        allocator.releaseCached();
    }

    /** CUDA contexts are current per thread, and anyone may change that: make ours current unless it is. */
    /** What the driver reports free on this GPU (cuMemGetInfo), which other processes share. */
    @Override
    public dev.isthmus.device.AvailableMemory memoryAvailable() {
        try (Device.Guard ignored = enter(); Arena arena = Arena.ofConfined()) {
            enterContext();
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(ValueLayout.JAVA_LONG);
            CudaDriver.check(cuda_h.cuMemGetInfo_v2(free, total), "cuMemGetInfo");
            return new dev.isthmus.device.AvailableMemory(free.get(ValueLayout.JAVA_LONG, 0),
                    "cuMemGetInfo (free of " + dev.isthmus.device.HostMemory.format(total.get(ValueLayout.JAVA_LONG, 0)) + " on the GPU)");
        }
    }

    void enterContext() {
        contextGuard.enter();
    }

    /** With the debug switch on, waits for the stream and reports an error against {@code operation}. */
    void afterOperation(String operation) {
        if (syncEveryOperation) {
            CudaDriver.check(cuda_h.cuStreamSynchronize(stream), operation + " (checked by ISTHMUS_CUDA_SYNC)");
            losses.throwPendingErrors();
        }
    }

    void requireRowMajor(Tensor a, Tensor b) {
        if (a.layout() != Layout.ROW_MAJOR || b.layout() != Layout.ROW_MAJOR) {
            throw new IllegalArgumentException(name + " works on row-major tensors");
        }
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Storage allocateStorage(long bytes) {
        enterContext();
        CudaAllocator.Block block = allocator.allocate(bytes);
        // Tensors start zeroed, on every device.
        CudaDriver.check(cuda_h.cuMemsetD8Async(block.address(), (byte) 0, Math.max(bytes, 0), stream), "cuMemsetD8Async");
        Storage storage = new Storage(this, MemorySegment.ofAddress(block.address()), bytes, block);
        openStorages.add(storage);
        return storage;
    }

    @Override
    protected void freeStorage(Storage storage) {
        // Back to the cache, not the driver: work queued on the one stream before this point still
        // finishes before anything queued later can reuse the block.
        openStorages.remove(storage);
        allocator.free((CudaAllocator.Block) storage.releaseHandle());
    }

    /** Pinned host memory of at least {@code bytes}, free to overwrite (the previous copy from it has finished). */
    private MemorySegment staging(long bytes) {
        CudaDriver.check(cuda_h.cuEventSynchronize(stagingEvent), "cuEventSynchronize (staging)");
        return staging.atLeast(bytes);
    }

    // ---------------------------------------------------------------- copies

    @Override
    protected void doCopy(Tensor source, Tensor destination) {
        enterContext();
        if (source.memory().address() != destination.memory().address()) {
            CudaDriver.check(cuda_h.cuMemcpyDtoDAsync_v2(destination.memory().address(), source.memory().address(),
                    source.byteSize(), stream), "cuMemcpyDtoDAsync");
        }
        afterOperation("copy");
    }

    @Override
    protected void doCopyFromHost(MemorySegment source, Tensor destination) {
        enterContext();
        long bytes = destination.byteSize();
        if (bytes == 0) {
            return;
        }
        MemorySegment pinned = staging(bytes);
        MemorySegment.copy(source, 0, pinned, 0, bytes);
        CudaDriver.check(cuda_h.cuMemcpyHtoDAsync_v2(destination.memory().address(), pinned, bytes, stream), "cuMemcpyHtoDAsync");
        CudaDriver.check(cuda_h.cuEventRecord(stagingEvent, stream), "cuEventRecord");
        afterOperation("copy from host");
    }

    @Override
    protected void doCopyToHost(Tensor source, MemorySegment destination) {
        enterContext();
        long bytes = source.byteSize();
        if (bytes == 0) {
            return;
        }
        MemorySegment pinned = staging(bytes);
        CudaDriver.check(cuda_h.cuMemcpyDtoHAsync_v2(pinned, source.memory().address(), bytes, stream), "cuMemcpyDtoHAsync");
        CudaDriver.check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize (copy to host)");
        losses.throwPendingErrors();
        MemorySegment.copy(pinned, 0, destination, 0, bytes);
    }

    @Override
    public void synchronize() {
        enterContext();
        CudaDriver.check(cuda_h.cuStreamSynchronize(stream), "cuStreamSynchronize");
        losses.throwPendingErrors();
    }

    // ---------------------------------------------------------------- plans

    @Override
    protected ConvolutionPlan newConvolution(ConvGeometry geometry) {
        enterContext();
        return new CudaConvolution(this, geometry);
    }

    /** cuDNN's tensor-core convolutions on BF16 need Ampere (8.0); F16 runs on every GPU Isthmus takes (7.5+). */
    @Override
    protected String whyNotLowPrecision(DType dtype) {
        if (dtype == DType.BF16 && computeCapability < 80) {
            return "BF16 convolutions in cuDNN need compute capability 8.0 (Ampere) or newer; this GPU has "
                    + computeCapability / 10 + "." + computeCapability % 10 + " (use --precision fp16)";
        }
        return null;
    }

    @Override
    protected ConvolutionPlan newConvolution(ConvGeometry geometry, DType operands) {
        enterContext();
        return new CudaConvolution(this, geometry, operands);
    }

    /** A linear layer as cuDNN's 1×1 convolution of [N, in, 1, 1] (the committed cuBLAS bindings lack cublasGemmEx). */
    @Override
    protected dev.isthmus.device.InnerProductPlan newInnerProduct(int batch, int inFeatures, int outFeatures, DType operands) {
        enterContext();
        return new CudaInnerProduct(this, batch, inFeatures, outFeatures, operands);
    }

    @Override
    public String convolutionKernel(DType dtype) {
        return "cuDNN " + (dtype == DType.F32 ? (tf32() ? "FP32 (TF32 tensor cores allowed)" : "strict FP32")
                : dtype + " tensor-op math, FP32 accumulation");
    }

    /** to ← from converted (F32 ↔ BF16/F16) on the stream, inside an operation that holds the device. */
    void convert(Tensor from, Tensor to) {
        elementwise.convert(from, to);
    }

    /** out ← a + b (F32) on the stream, inside an operation that holds the device. */
    void add(Tensor a, Tensor b, Tensor out) {
        elementwise.add(a, b, out);
    }

    @Override
    protected PoolingPlan newPooling(PoolGeometry geometry) {
        enterContext();
        return new CudaPooling(this, geometry);
    }

    /** 3-D convolution through cuDNN's N-d descriptors (F32; see {@link CudaConvolution3d}). */
    @Override
    protected Convolution3dPlan newConvolution3d(Conv3dGeometry geometry) {
        enterContext();
        return new CudaConvolution3d(this, geometry);
    }

    /** 3-D max and average pooling through cuDNN's N-d pooling descriptor (see {@link CudaPooling3d}). */
    @Override
    protected Pooling3dPlan newPooling3d(Pool3dGeometry geometry) {
        enterContext();
        return new CudaPooling3d(this, geometry);
    }

    @Override
    protected BatchNormPlan newBatchNorm(Shape inputShape) {
        enterContext();
        return new CudaBatchNorm(this, inputShape);
    }

    @Override
    public void close() {
        if (isClosed()) {
            return;
        }
        enterContext();
        cuda_h.cuStreamSynchronize(stream);
        super.close();
        elementwise.close();
        losses.close();
        reductions.close();
        kernels.close();
        cudnn_h.cudnnDestroy(cudnn);
        cublas_h.cublasDestroy_v2(cublas);
        staging.close();
        cuda_h.cuEventDestroy_v2(stagingEvent);
        // Tensors and plans still open: their memory goes back to the driver with the rest, and they
        // are marked freed, so that using them fails with a message and closing them does nothing.
        for (Storage storage : openStorages) {
            storage.markReleased();
        }
        openStorages.clear();
        allocator.close();
        cuda_h.cuStreamDestroy_v2(stream);
        cuda_h.cuDevicePrimaryCtxRelease_v2(CudaDriver.device(ordinal));
        arena.close();
    }
}
