package dev.isthmus.device.cpu;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.EnumMap;
import java.util.Map;

/**
 * The CPU device's scratch tensors, one per role: an operand converted to the layout a kernel
 * computes in, or a result computed in another layout than its destination's. Each is kept for the
 * next call, so a repeated mismatch allocates once; a model never mixes layouts, so in training
 * none is ever made.
 */
final class CpuScratch implements AutoCloseable {
    /** What a scratch tensor holds during one kernel call. */
    enum Slot {
        /** The first operand, converted. */
        FIRST_INPUT,
        /** The second operand, converted. */
        SECOND_INPUT,
        /** The third operand (an upstream gradient), converted. */
        THIRD_INPUT,
        /** An output computed in another layout before it is stored into its destination. */
        OUTPUT,
        /** A row-major result (or a second output) stored into its destination afterwards. */
        RESULT
    }

    private final CpuDevice cpu;
    private final Map<Slot, Tensor> tensors = new EnumMap<>(Slot.class);

    CpuScratch(CpuDevice cpu) {
        this.cpu = cpu;
    }

    /** A scratch tensor of this shape, dtype and layout for {@code slot} (contents undefined). */
    Tensor get(Slot slot, Shape shape, DType dtype, Layout layout) {
        Tensor current = tensors.get(slot);
        if (current == null || !current.shape().equals(shape) || current.dtype() != dtype || current.layout() != layout) {
            if (current != null) {
                current.close();
            }
            current = cpu.allocate(shape, dtype, layout);
            tensors.put(slot, current);
        }
        return current;
    }

    /** {@code tensor} itself when it has {@code layout}, else a copy in that layout in {@code slot}. */
    Tensor inLayout(Tensor tensor, Layout layout, Slot slot) {
        if (tensor.layout() == layout) {
            return tensor;
        }
        Tensor target = get(slot, tensor.shape(), tensor.dtype(), layout);
        CpuLayouts.convert(cpu.parallel(), tensor.shape(), tensor.memory(), tensor.layout(), target.memory(), layout);
        return target;
    }

    /** A row-major tensor to compute {@code destination}'s values into: itself, or the result slot. */
    Tensor rowMajorResult(Tensor destination) {
        return destination.layout() == Layout.ROW_MAJOR ? destination
                : get(Slot.RESULT, destination.shape(), destination.dtype(), Layout.ROW_MAJOR);
    }

    /** Writes {@code result} (computed in another layout) into {@code destination}. */
    void store(Tensor result, Tensor destination) {
        if (result != destination) {
            CpuLayouts.convert(cpu.parallel(), result.shape(), result.memory(), result.layout(), destination.memory(),
                    destination.layout());
        }
    }

    @Override
    public void close() {
        for (Tensor tensor : tensors.values()) {
            tensor.close();
        }
        tensors.clear();
    }
}
