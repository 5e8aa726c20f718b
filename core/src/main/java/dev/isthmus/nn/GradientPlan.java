package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.MemoryPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The input-gradient buffers of a network, assigned once, before its first backward (Caffe shares
 * its "diff" blobs the same way). During backward a gradient is read by exactly one layer, which
 * writes the next: so a chain of layers needs two buffers per shape, taken in turn, instead of one
 * per layer. A residual block's gradient is read by both its branches, and its main branch's
 * result waits for the shortcut's: while the block is planned those two are reserved, and the
 * layers inside get others. Every decision is made here, at planning; backward only uses the
 * buffers each layer was given.
 *
 * <p>The buffers are windows of one block, allocated by {@link #allocate} before the first
 * backward: a model that only ever runs inference never holds them.
 */
public final class GradientPlan implements AutoCloseable {
    private final Device device;
    private final List<Tensor> buffers = new ArrayList<>();
    private final List<Tensor> reserved = new ArrayList<>();
    private Tensor block;
    private boolean allocated;

    /**
     * A plan whose buffers will be allocated on {@code device}.
     *
     * @param device the device
     */
    public GradientPlan(Device device) {
        if (device == null) {
            throw new IllegalArgumentException("GradientPlan: device is null");
        }
        this.device = device;
    }

    /**
     * A buffer for a gradient of {@code shape}, in the device's activation layout, that shares
     * no memory with {@code reading} (the gradient its user reads while writing it; may be null)
     * or with a reserved gradient: the first such buffer made so far, else a new one.
     *
     * @param shape the buffer's shape
     * @param reading the tensor whose reader writes into the buffer, or null
     * @return a buffer for a gradient of {@code shape}, in the device's activation layout, that shares no memory with {@code reading} (the gradient its user reads while writing it; may be null) or with a reserved gradient: the first such buffer made so far, else a new one
     */
    public Tensor buffer(Shape shape, Tensor reading) {
        return buffer(shape, DType.F32, reading);
    }

    /**
     * As {@link #buffer(Shape, Tensor)} for a gradient of {@code dtype} elements (a run of layers
     * a mixed-precision model keeps in BF16 passes its gradients on in BF16).
     *
     * @param shape the buffer's shape
     * @param dtype the element type
     * @param reading the tensor whose reader writes into the buffer, or null
     * @return the buffer
     */
    public Tensor buffer(Shape shape, DType dtype, Tensor reading) {
        for (Tensor candidate : buffers) {
            if (candidate.shape().equals(shape) && candidate.dtype() == dtype && candidate.layout() == device.activationLayout(shape)
                    && (reading == null || !candidate.sharesMemoryWith(reading)) && !isReserved(candidate)) {
                return candidate;
            }
        }
        if (allocated) {
            throw new IllegalStateException("gradient plan: its buffers are allocated; plan again for another network");
        }
        Tensor made = withoutMemory(shape, dtype);
        buffers.add(made);
        return made;
    }

    private Tensor withoutMemory(Shape shape, DType dtype) {
        return Tensor.owning(Storage.planned(device, shape.elementCount() * dtype.byteSize()), shape, dtype,
                device.activationLayout(shape));
    }

    /** Allocates every buffer planned so far, as windows of one block; after the first call, does nothing. */
    public void allocate() {
        if (!allocated) {
            block = MemoryPlan.allocate(device, buffers);
            allocated = true;
        }
    }

    /** {@return whether the buffers exist (after the first backward)} */
    public boolean isAllocated() {
        return allocated;
    }

    /**
     * A stand-in for a gradient that comes from outside the network (the loss's dL/dlogits): it has
     * no memory, and no buffer handed out shares it. Plan a model's backward reading it.
     *
     * @param shape the buffer's shape
     * @return a stand-in for a gradient that comes from outside the network (the loss's dL/dlogits): it has no memory, and no buffer handed out shares it
     */
    public Tensor outside(Shape shape) {
        return withoutMemory(shape, DType.F32);
    }

    /**
     * Keeps {@code gradient} (and anything sharing its memory) from being handed out until {@link #release}.
     *
     * @param gradient a buffer of the plan
     */
    public void reserve(Tensor gradient) {
        if (gradient != null) {
            reserved.add(gradient);
        }
    }

    /**
     * Gives {@code gradient} back to the plan once its reader is planned, so another layer may write there.
     *
     * @param gradient a buffer of the plan
     */
    public void release(Tensor gradient) {
        for (int i = reserved.size() - 1; i >= 0; i--) {
            if (reserved.get(i) == gradient) {
                reserved.remove(i);
                return;
            }
        }
    }

    /**
     * Whether {@code gradient} lies in one of this plan's buffers and is not reserved: its reader may overwrite it.
     *
     * @param gradient a buffer of the plan
     * @return whether {@code gradient} lies in one of this plan's buffers and is not reserved: its reader may overwrite it
     */
    public boolean isFree(Tensor gradient) {
        if (gradient == null || isReserved(gradient)) {
            return false;
        }
        for (Tensor buffer : buffers) {
            if (buffer.sharesMemoryWith(gradient)) {
                return true;
            }
        }
        return false;
    }

    private boolean isReserved(Tensor candidate) {
        for (Tensor held : reserved) {
            if (held.sharesMemoryWith(candidate)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Bytes of all the buffers, for tests and reports.
     *
     * @return bytes of all the buffers, for tests and reports
     */
    public long bytes() {
        long bytes = 0;
        for (Tensor buffer : buffers) {
            bytes += buffer.byteSize();
        }
        return bytes;
    }

    @Override
    public void close() {
        for (Tensor buffer : buffers) {
            buffer.close();
        }
        if (block != null) {
            block.close();
        }
        buffers.clear();
        reserved.clear();
    }
}
