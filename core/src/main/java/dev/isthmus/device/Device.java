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
 * <p>A device owns memory, copies, synchronisation, the one-thread guard and the plan factories
 * (convolution, pooling, batch norm). Kernels live in families ({@link #blas()},
 * {@link #elementwise()}, {@link #activations()}, {@link #losses()}, {@link #optimizers()},
 * {@link #reductions()}): each a final class that validates devices, dtypes, shapes and index
 * ranges in Java and only then calls the backend the concrete device installed, so a wrong
 * argument is an {@link IllegalArgumentException} naming the operation and the shapes, never a
 * native crash. Adding a kernel touches its family, the family's backend interface and each
 * backend.
 * Operations are asynchronous on devices that queue work; reading results on the host
 * ({@link #copyToHost}) waits for them.
 */
public abstract class Device implements AutoCloseable {
    /** For subclasses: a device with nothing allocated yet. */
    protected Device() {
    }

    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private final AtomicLong allocations = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicReference<Thread> user = new java.util.concurrent.atomic.AtomicReference<>();
    private final Guard guard = new Guard();
    private int depth;
    private volatile boolean closed;
    private Kernels kernels;
    private MemoryPlan planning;

    /**
     * "cpu", "cuda:0".
     *
     * @return the device's name, such as "cpu" or "cuda:0"
     */
    public abstract String name();

    /** {@return CPU or CUDA} */
    public abstract DeviceKind kind();

    // ---------------------------------------------------------------- memory

    /**
     * A new zero-filled F32 tensor.
     *
     * @param shape the shape
     * @return a new zero-filled F32 tensor
     */
    public final Tensor allocate(Shape shape) {
        return allocate(shape, DType.F32);
    }

    /**
     * A new zero-filled row-major tensor.
     *
     * @param shape the shape
     * @param dtype the element type
     * @return a new zero-filled row-major tensor
     */
    public final Tensor allocate(Shape shape, DType dtype) {
        return allocate(shape, dtype, Layout.ROW_MAJOR);
    }

    /**
     * A new zero-filled tensor in the given layout (channels-last needs a rank-4 shape). While a
     * {@link MemoryPlan} records on this device, the tensor's memory comes later, from the plan.
     *
     * @param shape the shape
     * @param dtype the element type
     * @param layout the memory layout
     * @return a new zero-filled tensor in the given layout (channels-last needs a rank-4 shape)
     */
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
        MemoryPlan plan = planning;
        if (plan != null && plan.records()) {
            return plan.reserve(shape, dtype, layout);
        }
        long bytes = shape.elementCount() * dtype.byteSize();
        Storage storage;
        try (Guard ignored = enter()) {
            storage = allocateStorage(bytes);
        }
        allocations.incrementAndGet();
        long live = liveBytes.addAndGet(bytes);
        peakBytes.accumulateAndGet(live, Math::max);
        return Tensor.owning(storage, shape, dtype, layout);
    }

    /**
     * A new zero-filled F32 tensor for activations (layer outputs and their gradients) in the
     * layout this device computes fastest on; see {@link #activationLayout}.
     *
     * @param shape the shape
     * @return a new zero-filled F32 tensor for activations (layer outputs and their gradients) in the layout this device computes fastest on; see {@link #activationLayout}
     */
    public final Tensor allocateActivation(Shape shape) {
        return allocate(shape, DType.F32, activationLayout(shape));
    }

    /**
     * Whether tensors on this device may have {@code layout} (every device supports row-major).
     *
     * @param layout the memory layout
     * @return whether tensors on this device may have {@code layout} (every device supports row-major)
     */
    public boolean supports(Layout layout) {
        return true;
    }

    /**
     * The layout this device prefers for activations of this shape (row-major unless told otherwise).
     *
     * @param shape the shape
     * @return the layout this device prefers for activations of this shape (row-major unless told otherwise)
     */
    public Layout activationLayout(Shape shape) {
        return Layout.ROW_MAJOR;
    }

    /**
     * A new F32 tensor holding {@code values}.
     *
     * @param shape the shape
     * @param values the elements, in row-major order
     * @return a new F32 tensor holding {@code values}
     */
    public final Tensor fromArray(Shape shape, float... values) {
        Tensor tensor = allocate(shape);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException invalid) {
            tensor.close();
            throw invalid;
        }
    }

    /**
     * A new I32 tensor holding {@code values}.
     *
     * @param shape the shape
     * @param values the elements, in row-major order
     * @return a new I32 tensor holding {@code values}
     */
    public final Tensor fromInts(Shape shape, int... values) {
        Tensor tensor = allocate(shape, DType.I32);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException invalid) {
            tensor.close();
            throw invalid;
        }
    }

    /**
     * Frees a block; called by the owning tensor's close. Freeing twice is harmless.
     *
     * @param storage the memory to free
     */
    public final void release(Storage storage) {
        if (storage.device() != this) {
            throw new IllegalArgumentException("release: the block belongs to " + storage.device().name()
                    + ", not " + name());
        }
        try (Guard ignored = enter()) {
            if (storage.markReleased()) {
                liveBytes.addAndGet(-storage.byteSize());
                freeStorage(storage);
            }
        }
    }

    /**
     * Bytes of tensor memory allocated and not yet freed.
     *
     * @return bytes of tensor memory allocated and not yet freed
     */
    public final long liveBytes() {
        return liveBytes.get();
    }

    /**
     * How many tensors this device has allocated in all: a steady-state training step must not change it.
     *
     * @return how many tensors this device has allocated in all: a steady-state training step must not change it
     */
    public final long allocationCount() {
        return allocations.get();
    }

    /**
     * What this device can still allocate, for admission before a model takes its memory: on the
     * host the smaller of MemAvailable and the cgroup's headroom ({@link HostMemory}); a GPU device
     * says what its driver reports free.
     *
     * @return the bytes available and where the figure comes from
     */
    public AvailableMemory memoryAvailable() {
        return HostMemory.available();
    }

    /**
     * The highest {@link #liveBytes()} seen.
     *
     * @return the highest {@link #liveBytes()} seen
     */
    public final long peakBytes() {
        return peakBytes.get();
    }

    /** The plan that allocations are deferred into (see {@link MemoryPlan}), or null. */
    final MemoryPlan planning() {
        return planning;
    }

    final void startPlanning(MemoryPlan plan) {
        if (planning != null) {
            throw new IllegalStateException("device " + name() + " is already recording a memory plan");
        }
        planning = plan;
    }

    final void stopPlanning(MemoryPlan plan) {
        if (planning == plan) {
            planning = null;
        }
    }

    /**
     * For subclasses: {@code bytes} of device memory (zero-filled is not required).
     *
     * @param bytes the size in bytes
     * @return the memory
     */
    protected abstract Storage allocateStorage(long bytes);

    /**
     * For subclasses: frees memory that {@link #allocateStorage} returned.
     *
     * @param storage the memory to free
     */
    protected abstract void freeStorage(Storage storage);

    // ---------------------------------------------------------------- copies and synchronisation

    /**
     * dst ← src, same element count and dtype (shapes may differ, as for a reshape).
     *
     * @param source the tensor or host memory copied from
     * @param destination the tensor or host memory copied to
     */
    public final void copy(Tensor source, Tensor destination) {
        final String op = "copy";
        Checks.tensor(op, "source", source, this, source == null ? DType.F32 : source.dtype());
        Checks.tensor(op, "destination", destination, this, source.dtype());
        Checks.sameCount(op, source, "source", destination, "destination");
        try (Guard ignored = enter()) {
            doCopy(source, destination);
        }
    }

    /**
     * Copies host memory ({@code destination.byteSize()} bytes, native or a Java array) into a tensor.
     *
     * @param source the tensor or host memory copied from
     * @param destination the tensor or host memory copied to
     */
    public final void copyFromHost(MemorySegment source, Tensor destination) {
        final String op = "copyFromHost";
        Checks.tensor(op, "destination", destination, this, destination == null ? DType.F32 : destination.dtype());
        if (source == null || source.byteSize() != destination.byteSize()) {
            throw new IllegalArgumentException(op + ": tensor " + destination.shape() + " needs "
                    + destination.byteSize() + " bytes, the host buffer has " + (source == null ? "none" : source.byteSize()));
        }
        try (Guard ignored = enter()) {
            doCopyFromHost(source, destination);
        }
    }

    /**
     * Copies a tensor to host memory of exactly its size, after the work queued before it finishes.
     *
     * @param source the tensor or host memory copied from
     * @param destination the tensor or host memory copied to
     */
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
        try (Guard ignored = enter()) {
            doCopyToHost(source, destination);
        }
    }

    /** Waits until all queued work has finished. */
    public abstract void synchronize();

    /**
     * For subclasses: the copy, arguments checked by {@link #copy}.
     *
     * @param source the tensor or host memory copied from
     * @param destination the tensor or host memory copied to
     */
    protected abstract void doCopy(Tensor source, Tensor destination);

    /**
     * For subclasses: the copy from host memory, arguments checked by {@link #copyFromHost}.
     *
     * @param source the tensor or host memory copied from
     * @param destination the tensor or host memory copied to
     */
    protected abstract void doCopyFromHost(MemorySegment source, Tensor destination);

    /**
     * For subclasses: the copy to host memory, arguments checked by {@link #copyToHost}.
     *
     * @param source the tensor or host memory copied from
     * @param destination the tensor or host memory copied to
     */
    protected abstract void doCopyToHost(Tensor source, MemorySegment destination);

    // ---------------------------------------------------------------- kernel families

    /**
     * The backends of every kernel family, chosen once by the concrete device when it is made
     * (the CPU device picks oneDNN or OpenBLAS + Java here, never inside a kernel).
     *
     * @param blas the BLAS backend
     * @param elementwise the element-wise backend
     * @param activations the activation backend
     * @param losses the loss backend
     * @param optimizers the optimizer backend
     * @param reductions the reductions backend
     */
    public record Backends(BlasKernels.Backend blas, ElementwiseKernels.Backend elementwise,
                           ActivationKernels.Backend activations, LossKernels.Backend losses,
                           OptimizerKernels.Backend optimizers, ReductionKernels.Backend reductions) {
        /** Checks that every family has a backend. */
        public Backends {
            if (blas == null || elementwise == null || activations == null || losses == null || optimizers == null
                    || reductions == null) {
                throw new IllegalArgumentException("Device.Backends: every kernel family needs a backend");
            }
        }
    }

    private record Kernels(BlasKernels blas, ElementwiseKernels elementwise, ActivationKernels activations,
                           LossKernels losses, OptimizerKernels optimizers, ReductionKernels reductions) {
    }

    /**
     * Installs the kernel families over {@code backends}; a concrete device calls it once, in its constructor.
     *
     * @param backends the backends of the kernel families
     */
    protected final void installKernels(Backends backends) {
        if (kernels != null) {
            throw new IllegalStateException(name() + ": kernels are installed once");
        }
        kernels = new Kernels(new BlasKernels(this, backends.blas()), new ElementwiseKernels(this, backends.elementwise()),
                new ActivationKernels(this, backends.activations()), new LossKernels(this, backends.losses()),
                new OptimizerKernels(this, backends.optimizers()), new ReductionKernels(this, backends.reductions()));
    }

    /**
     * GEMM, matrix products, axpy and scaling.
     *
     * @return the BLAS kernels
     */
    public final BlasKernels blas() {
        return kernels.blas();
    }

    /**
     * Fill, element-wise addition and product, per-channel bias and its gradient.
     *
     * @return the element-wise kernels
     */
    public final ElementwiseKernels elementwise() {
        return kernels.elementwise();
    }

    /**
     * Activation functions, softmax and dropout, forward and backward.
     *
     * @return the activation kernels
     */
    public final ActivationKernels activations() {
        return kernels.activations();
    }

    /**
     * Cross-entropy and the element-wise losses, with their gradients.
     *
     * @return the loss kernels
     */
    public final LossKernels losses() {
        return kernels.losses();
    }

    /**
     * The optimizers' update rules (SGD, Adam/AdamW, RMSprop, Adagrad).
     *
     * @return the optimizers' update rules (SGD, Adam/AdamW, RMSprop, Adagrad)
     */
    public final OptimizerKernels optimizers() {
        return kernels.optimizers();
    }

    /**
     * Reductions read on the host: sum of squares, non-finite count.
     *
     * @return the reduction kernels
     */
    public final ReductionKernels reductions() {
        return kernels.reductions();
    }

    // ---------------------------------------------------------------- plans

    /**
     * A convolution prepared for {@code geometry}; close it when the layer is done with it.
     *
     * @param geometry the sizes
     * @return a convolution prepared for {@code geometry}; close it when the layer is done with it
     */
    public final ConvolutionPlan convolution(ConvGeometry geometry) {
        return convolution(geometry, DType.F32);
    }

    /**
     * A convolution whose input and output gradient are {@code operands} (F32, or BF16/F16 for
     * mixed precision; see {@link ConvolutionPlan}).
     *
     * @param geometry the sizes
     * @param operands F32, BF16 or F16
     * @return a convolution prepared for {@code geometry}; close it when the layer is done with it
     * @throws UnsupportedOperationException when this device cannot compute in {@code operands}
     *                                       ({@link #lowPrecisionSupport} says why)
     */
    public final ConvolutionPlan convolution(ConvGeometry geometry, DType operands) {
        ensureOpen();
        if (geometry == null || operands == null) {
            throw new IllegalArgumentException("convolution: geometry and operand type must not be null");
        }
        requireCompute("convolution " + geometry, operands);
        try (Guard ignored = enter()) {
            return operands == DType.F32 ? newConvolution(geometry) : newConvolution(geometry, operands);
        }
    }

    /**
     * Null when convolutions and GEMMs on this device can run on {@code dtype} operands (F32
     * always), else the reason they cannot (the CPU lacks BF16 instructions, the backend has no
     * such kernels).
     *
     * @param dtype F32, BF16 or F16
     * @return null, or the reason
     */
    public String lowPrecisionSupport(DType dtype) {
        if (dtype == DType.F32) {
            return null;
        }
        if (dtype == null || !dtype.isLowPrecision()) {
            return "mixed precision computes in BF16 or F16, not " + dtype;
        }
        ensureOpen();
        return whyNotLowPrecision(dtype);
    }

    /**
     * Whether this device's batch norm, ReLU and residual-sum kernels also take {@code dtype}
     * (BF16) activations, so that a mixed-precision model can hand a convolution's output to the
     * next convolution through them without converting (autocast's layout). False unless a device
     * says otherwise: there every activation between layers stays F32.
     *
     * @param dtype the low-precision type
     * @return whether activations may stay in {@code dtype} between layers
     */
    public boolean carriesLowPrecision(DType dtype) {
        return false;
    }

    /**
     * The kernels a training convolution on {@code dtype} operands runs here, for reports: on the
     * CPU the implementation oneDNN picks ({@code jit:avx512_core}, {@code jit:avx512_core_bf16},
     * {@code brgconv:avx512_core_amx}...), which names the ISA it dispatched to.
     *
     * @param dtype the operand type
     * @return the kernel's name
     */
    public String convolutionKernel(DType dtype) {
        return name();
    }

    /**
     * Throws, naming {@code operation}, when this device cannot compute on {@code dtype} operands.
     *
     * @param operation what is asked, for the message
     * @param dtype     the operand type
     * @throws UnsupportedOperationException with the reason
     */
    public final void requireCompute(String operation, DType dtype) {
        String reason = lowPrecisionSupport(dtype);
        if (reason != null) {
            throw new UnsupportedOperationException(operation + " in " + dtype + " on " + name() + ": " + reason);
        }
    }

    /**
     * The reason this device has no {@code dtype} (BF16 or F16) kernels, or null when it has.
     *
     * @param dtype BF16 or F16
     * @return null, or the reason
     */
    protected String whyNotLowPrecision(DType dtype) {
        return name() + " has no " + dtype + " kernels";
    }

    /**
     * A linear layer's GEMMs for [batch, in] → [batch, out] on {@code operands} (BF16 or F16):
     * mixed precision's Linear (see {@link InnerProductPlan}).
     *
     * @param batch       rows of the input
     * @param inFeatures  columns of the input
     * @param outFeatures columns of the output
     * @param operands    BF16 or F16
     * @return the plan; close it when the layer is done with it
     * @throws UnsupportedOperationException when this device cannot compute in {@code operands}
     */
    public final InnerProductPlan innerProduct(int batch, int inFeatures, int outFeatures, DType operands) {
        ensureOpen();
        if (batch <= 0 || inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("inner product: batch, in and out features must be > 0, got [" + batch + ", "
                    + inFeatures + "] -> [" + batch + ", " + outFeatures + "]");
        }
        if (operands == null || !operands.isLowPrecision()) {
            throw new IllegalArgumentException("inner product: operands are BF16 or F16 (F32 linear layers use blas()), got "
                    + operands);
        }
        requireCompute("inner product", operands);
        try (Guard ignored = enter()) {
            return newInnerProduct(batch, inFeatures, outFeatures, operands);
        }
    }

    /**
     * A low-precision inner product; called only when {@link #whyNotLowPrecision} said null.
     *
     * @param batch       rows of the input
     * @param inFeatures  columns of the input
     * @param outFeatures columns of the output
     * @param operands    BF16 or F16
     * @return the plan
     */
    protected InnerProductPlan newInnerProduct(int batch, int inFeatures, int outFeatures, DType operands) {
        throw new UnsupportedOperationException("inner product in " + operands + " on " + name());
    }

    /**
     * A low-precision convolution; called only when {@link #whyNotLowPrecision} said null.
     *
     * @param geometry the sizes
     * @param operands BF16 or F16
     * @return the plan
     */
    protected ConvolutionPlan newConvolution(ConvGeometry geometry, DType operands) {
        throw new UnsupportedOperationException("convolution in " + operands + " on " + name());
    }

    /**
     * {@return a pooling plan for {@code geometry} on this device (a workspace, made once)}
     *
     * @param geometry the sizes
     */
    public final PoolingPlan pooling(PoolGeometry geometry) {
        ensureOpen();
        if (geometry == null) {
            throw new IllegalArgumentException("pooling: geometry must not be null");
        }
        try (Guard ignored = enter()) {
            return newPooling(geometry);
        }
    }

    /**
     * A 3-D convolution prepared for {@code geometry}; close it when the layer is done with it.
     *
     * @param geometry the sizes
     * @return the plan
     */
    public final Convolution3dPlan convolution3d(Conv3dGeometry geometry) {
        ensureOpen();
        if (geometry == null) {
            throw new IllegalArgumentException("convolution3d: geometry must not be null");
        }
        try (Guard ignored = enter()) {
            return newConvolution3d(geometry);
        }
    }

    /**
     * 3-D pooling prepared for {@code geometry}; close it when the layer is done with it.
     *
     * @param geometry the sizes
     * @return the plan
     */
    public final Pooling3dPlan pooling3d(Pool3dGeometry geometry) {
        ensureOpen();
        if (geometry == null) {
            throw new IllegalArgumentException("pooling3d: geometry must not be null");
        }
        try (Guard ignored = enter()) {
            return newPooling3d(geometry);
        }
    }

    /**
     * Batch normalisation over axis 1 of inputs of {@code inputShape} ([N, C, ...]).
     *
     * @param inputShape the input shape
     * @return the plan (a workspace, made once)
     */
    public final BatchNormPlan batchNorm(Shape inputShape) {
        ensureOpen();
        if (inputShape == null) {
            throw new IllegalArgumentException("batchNorm: input shape must not be null");
        }
        try (Guard ignored = enter()) {
            return newBatchNorm(inputShape);
        }
    }

    /**
     * For subclasses: the backend's convolution plan.
     *
     * @param geometry the sizes
     * @return the plan
     */
    protected abstract ConvolutionPlan newConvolution(ConvGeometry geometry);

    /**
     * For subclasses: the backend's pooling plan.
     *
     * @param geometry the sizes
     * @return the plan
     */
    protected abstract PoolingPlan newPooling(PoolGeometry geometry);

    /**
     * For subclasses: the backend's batch-norm plan.
     *
     * @param inputShape the input shape
     * @return the plan
     */
    protected abstract BatchNormPlan newBatchNorm(Shape inputShape);

    /**
     * For subclasses: the backend's 3-D convolution plan; devices without 3-D kernels say so (the CPU overrides this).
     *
     * @param geometry the sizes
     * @return the plan
     */
    protected Convolution3dPlan newConvolution3d(Conv3dGeometry geometry) {
        throw new UnsupportedOperationException("convolution3d: " + name() + " has no 3-D convolution");
    }

    /**
     * For subclasses: the backend's 3-D pooling plan; devices without 3-D kernels say so (the CPU overrides this).
     *
     * @param geometry the sizes
     * @return the plan
     */
    protected Pooling3dPlan newPooling3d(Pool3dGeometry geometry) {
        throw new UnsupportedOperationException("pooling3d: " + name() + " has no 3-D pooling");
    }

    // ---------------------------------------------------------------- one operation at a time

    /**
     * Marks the start of native work by the calling thread; close the returned guard when it ends
     * (try-with-resources). A device runs one operation at a time: its plans and scratch memory
     * are shared, and a tensor freed by one thread while another's native call holds its address
     * would crash the JVM. So a second thread is refused, with a message, rather than let in.
     * Nested calls from the same thread (a plan calling a kernel family) are fine. The guard is
     * one preallocated object, so entering allocates nothing.
     *
     * @return the guard to close when the native work is done
     */
    protected final Guard enter() {
        Thread current = Thread.currentThread();
        if (user.get() != current && !user.compareAndSet(null, current)) {
            Thread other = user.get();
            throw new IllegalStateException("device " + name() + " is in use by thread '"
                    + (other == null ? "?" : other.getName()) + "' and runs one operation at a time; give each thread its own"
                    + " device, or hand the work to one thread");
        }
        depth++;
        return guard;
    }

    /** The device held by one thread for one operation; closing it lets the device go. */
    public final class Guard implements AutoCloseable {
        private Guard() {
        }

        @Override
        public void close() {
            if (--depth == 0) {
                user.set(null);
            }
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /** Throws when the device is closed. */
    protected final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("device " + name() + " is closed");
        }
    }

    /** {@return whether {@link #close()} was called} */
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
