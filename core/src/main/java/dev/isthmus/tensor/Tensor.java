package dev.isthmus.tensor;

import dev.isthmus.device.Device;

import java.lang.foreign.MemorySegment;

/**
 * An n-dimensional array of {@link DType#F32} (or I32) elements that lives on a {@link Device}.
 * Its shape is logical (NCHW for images); its {@link Layout} says how the elements sit in memory:
 * row-major, or channels-last for the activations of a device that computes faster on NHWC.
 * A tensor owns its memory and frees it on {@link #close()}, or is a view of another tensor's
 * memory (a reshape or a slice) that frees nothing. Any use of a closed tensor, or of a view whose
 * memory was freed, throws {@link IllegalStateException}. A tensor allocated while a memory plan
 * records ({@code dev.isthmus.device.MemoryPlan}) has its memory only once the plan binds it to a
 * window of a larger block; it is freed with that block.
 */
public final class Tensor implements AutoCloseable {
    private final Device device;
    private final Shape shape;
    private final DType dtype;
    private final Layout layout;
    private final Storage storage;
    private final long byteOffset;
    private final boolean owner;
    // Resolved on first use: a planned tensor has no memory until its plan binds it.
    private MemorySegment memory;
    private volatile boolean closed;

    /**
     * For devices: a tensor that owns {@code storage}.
     *
     * @param storage the memory the tensor owns
     * @param shape the shape
     * @param dtype the element type
     * @param layout the memory layout
     * @return the tensor
     */
    public static Tensor owning(Storage storage, Shape shape, DType dtype, Layout layout) {
        if (layout == Layout.CHANNELS_LAST && shape.rank() != 4) {
            throw new IllegalArgumentException("channels-last needs a rank-4 [N, C, H, W] shape, got " + shape);
        }
        return new Tensor(storage, shape, dtype, layout, 0, true);
    }

    private Tensor(Storage storage, Shape shape, DType dtype, Layout layout, long byteOffset, boolean owner) {
        this.device = storage.device();
        this.shape = shape;
        this.dtype = dtype;
        this.layout = layout;
        this.storage = storage;
        this.byteOffset = byteOffset;
        this.owner = owner;
        long byteSize = shape.elementCount() * dtype.byteSize();
        if (byteOffset < 0 || byteOffset + byteSize > storage.byteSize()) {
            throw new IllegalArgumentException("a " + shape + " " + dtype + " window at byte " + byteOffset
                    + " does not fit in a block of " + storage.byteSize() + " bytes");
        }
        if (storage.isBound()) {
            this.memory = window();
        }
    }

    private MemorySegment window() {
        MemorySegment base = storage.base();
        // Host memory is a sized slice; device memory a pointer carrier moved by the offset.
        return storage.isHost() ? base.asSlice(byteOffset, byteSize())
                : MemorySegment.ofAddress(base.address() + byteOffset);
    }

    /** {@return the device the tensor lives on} */
    public Device device() {
        return device;
    }

    /** {@return the shape} */
    public Shape shape() {
        return shape;
    }

    /** {@return the element type} */
    public DType dtype() {
        return dtype;
    }

    /** {@return the memory layout (NCHW, or channels-last on devices that prefer it)} */
    public Layout layout() {
        return layout;
    }

    /**
     * The memory this tensor is a window on.
     *
     * @return the memory this tensor is a window on
     */
    public Storage storage() {
        return storage;
    }

    /** {@return the number of elements} */
    public long elementCount() {
        return shape.elementCount();
    }

    /** {@return the size in bytes} */
    public long byteSize() {
        return shape.elementCount() * dtype.byteSize();
    }

    /**
     * The elements: on the CPU a segment of exactly {@link #byteSize()} bytes; on a GPU a
     * zero-length segment whose address is the device pointer (for native calls only).
     *
     * @return the elements: on the CPU a segment of exactly {@link #byteSize()} bytes; on a GPU a zero-length segment whose address is the device pointer (for native calls only)
     * @throws IllegalStateException if the tensor is closed or its memory was freed
     */
    public MemorySegment memory() {
        ensureOpen();
        MemorySegment resolved = memory;
        if (resolved == null) {
            resolved = window();
            memory = resolved;
        }
        return resolved;
    }

    /** {@return whether the tensor is closed} */
    public boolean isClosed() {
        return closed || storage.isReleased();
    }

    /**
     * Whether this tensor and {@code other} overlap in memory (two windows on one block may not).
     *
     * @param other the other tensor
     * @return whether this tensor and {@code other} overlap in memory (two windows on one block may not)
     */
    public boolean sharesMemoryWith(Tensor other) {
        if (storage.root() != other.storage.root()) {
            return false;
        }
        long start = storage.offsetInRoot() + byteOffset;
        long otherStart = other.storage.offsetInRoot() + other.byteOffset;
        return start < otherStart + other.byteSize() && otherStart < start + byteSize();
    }

    /**
     * One flat F32 view over {@code tensors} when they lie back to back, in this order and with no
     * gap, in one block of memory (a model's parameters and their gradients do); otherwise null.
     *
     * @param tensors the tensors
     * @return one flat F32 view over {@code tensors} when they lie back to back, in this order and with no gap, in one block of memory (a model's parameters and their gradients do); otherwise null
     */
    public static Tensor flatSpan(java.util.List<Tensor> tensors) {
        if (tensors == null || tensors.isEmpty()) {
            return null;
        }
        Tensor first = tensors.get(0);
        Storage root = first.storage.root();
        long start = first.storage.offsetInRoot() + first.byteOffset;
        long end = start;
        for (Tensor tensor : tensors) {
            tensor.ensureOpen();
            if (tensor.dtype != DType.F32 || tensor.layout != Layout.ROW_MAJOR || tensor.storage.root() != root
                    || tensor.storage.offsetInRoot() + tensor.byteOffset != end) {
                return null;
            }
            end += tensor.byteSize();
        }
        return new Tensor(root, Shape.of(Math.toIntExact((end - start) / DType.F32.byteSize())), DType.F32,
                Layout.ROW_MAJOR, start, false);
    }

    /** Throws {@link IllegalStateException} when the tensor is closed. */
    public void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + shape + " " + dtype + " on " + device.name() + " is closed");
        }
        if (storage.isReleased()) {
            throw new IllegalStateException("tensor " + shape + " " + dtype + " on " + device.name()
                    + " is a view of memory that was freed when its owner was closed");
        }
    }

    /**
     * The same elements seen with another shape of the same element count (no copy).
     *
     * @param newShape the shape to see the elements with
     * @return the same elements seen with another shape of the same element count (no copy)
     * @throws IllegalStateException for a channels-last tensor, whose memory order is not the
     *                               logical order: copy it into a row-major tensor first
     */
    public Tensor reshape(Shape newShape) {
        ensureOpen();
        requireRowMajor("reshape");
        if (newShape.elementCount() != shape.elementCount()) {
            throw new IllegalArgumentException("reshape: " + shape + " has " + shape.elementCount()
                    + " elements, " + newShape + " has " + newShape.elementCount());
        }
        return new Tensor(storage, newShape, dtype, layout, byteOffset, false);
    }

    private void requireRowMajor(String operation) {
        if (layout != Layout.ROW_MAJOR) {
            throw new IllegalStateException(operation + ": tensor " + shape + " is channels-last; copy it into a "
                    + "row-major tensor (device.copy) first");
        }
    }

    /**
     * A view of {@code newShape.elementCount()} elements starting at element {@code elementOffset}.
     *
     * @param elementOffset the first element of the view
     * @param newShape the shape to see the elements with
     * @return a view of {@code newShape.elementCount()} elements starting at element {@code elementOffset}
     */
    public Tensor slice(long elementOffset, Shape newShape) {
        ensureOpen();
        requireRowMajor("slice");
        if (elementOffset < 0 || elementOffset + newShape.elementCount() > shape.elementCount()) {
            throw new IllegalArgumentException("slice: elements [" + elementOffset + ", "
                    + (elementOffset + newShape.elementCount()) + ") are outside tensor " + shape);
        }
        return new Tensor(storage, newShape, dtype, layout, byteOffset + elementOffset * dtype.byteSize(), false);
    }

    /**
     * The samples {@code [from, from + count)} of a batch-major tensor, as a view.
     *
     * @param from the first sample
     * @param count the number of samples
     * @return the samples {@code [from, from + count)} of a batch-major tensor, as a view
     */
    public Tensor batchSlice(int from, int count) {
        if (shape.rank() == 0) {
            throw new IllegalArgumentException("batchSlice: a scalar has no batch dimension");
        }
        if (from < 0 || count < 0 || from + count > shape.dim(0)) {
            throw new IllegalArgumentException("batchSlice: samples [" + from + ", " + (from + count)
                    + ") are outside batch " + shape);
        }
        ensureOpen();
        // The batch is outermost in both layouts, so a run of samples is one contiguous block.
        return new Tensor(storage, shape.withBatch(count), dtype, layout,
                byteOffset + (long) from * shape.featuresPerSample() * dtype.byteSize(), false);
    }

    /**
     * Copies the elements to a new Java array (waits for the device).
     *
     * @return the elements
     */
    public float[] toFloatArray() {
        requireDType(DType.F32, "toFloatArray");
        float[] values = new float[Math.toIntExact(elementCount())];
        device.copyToHost(this, MemorySegment.ofArray(values));
        return values;
    }

    /** {@return the elements of an I32 tensor in a new Java array (waits for the device)} */
    public int[] toIntArray() {
        requireDType(DType.I32, "toIntArray");
        int[] values = new int[Math.toIntExact(elementCount())];
        device.copyToHost(this, MemorySegment.ofArray(values));
        return values;
    }

    /**
     * Overwrites every element from a Java array of exactly {@link #elementCount()} values.
     *
     * @param values the values, exactly {@link #elementCount()} of them
     * @return this tensor
     */
    public Tensor copyFrom(float[] values) {
        requireDType(DType.F32, "copyFrom");
        if (values == null || values.length != elementCount()) {
            throw new IllegalArgumentException("copyFrom: tensor " + shape + " needs " + elementCount()
                    + " values, got " + (values == null ? "null" : values.length));
        }
        device.copyFromHost(MemorySegment.ofArray(values), this);
        return this;
    }

    /**
     * Overwrites every element of an I32 tensor from a Java array of exactly {@link #elementCount()} values.
     *
     * @param values the values, exactly {@link #elementCount()} of them
     * @return this tensor
     */
    public Tensor copyFrom(int[] values) {
        requireDType(DType.I32, "copyFrom");
        if (values == null || values.length != elementCount()) {
            throw new IllegalArgumentException("copyFrom: tensor " + shape + " needs " + elementCount()
                    + " values, got " + (values == null ? "null" : values.length));
        }
        device.copyFromHost(MemorySegment.ofArray(values), this);
        return this;
    }

    /**
     * The single element of a one-element tensor.
     *
     * @return the single element of a one-element tensor
     */
    public float item() {
        if (elementCount() != 1) {
            throw new IllegalArgumentException("item: tensor " + shape + " has " + elementCount() + " elements, not 1");
        }
        return toFloatArray()[0];
    }

    private void requireDType(DType expected, String operation) {
        if (dtype != expected) {
            throw new IllegalArgumentException(operation + ": tensor " + shape + " is " + dtype + ", not " + expected);
        }
    }

    /** Frees the memory if this tensor owns it; closing twice is harmless. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owner && storage.isPlanned()) {
            // The plan's block holds the memory; it is freed with the block.
            storage.markReleased();
        } else if (owner) {
            device.release(storage);
        }
    }

    @Override
    public String toString() {
        return "Tensor" + shape + " " + dtype + (layout == Layout.CHANNELS_LAST ? " channels-last" : "") + " on "
                + device.name() + (isClosed() ? " (closed)" : "");
    }
}
