package dev.isthmus.device.cpu;

import dev.isthmus.tensor.Tensor;

/** The element-wise family with oneDNN's binary addition (the residual sums of every ResNet step). */
final class DnnlCpuElementwise extends CpuElementwise {
    private final DnnlElementwise primitives;

    DnnlCpuElementwise(CpuParallel parallel, CpuScratch scratch, DnnlElementwise primitives) {
        super(parallel, scratch);
        this.primitives = primitives;
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        add(a, b, out, false);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor out) {
        add(a, b, out, true);
    }

    private void add(Tensor a, Tensor b, Tensor out, boolean relu) {
        // oneDNN's JIT binary wants src0 in dst's type: an F32 operand goes first (the sum commutes).
        boolean swap = a.dtype() != out.dtype() && b.dtype() == out.dtype();
        Tensor left = scratch.inLayout(swap ? b : a, out.layout(), CpuScratch.Slot.FIRST_INPUT);
        Tensor right = scratch.inLayout(swap ? a : b, out.layout(), CpuScratch.Slot.SECOND_INPUT);
        DnnlPrimitive add = primitives.add(out.elementCount(), relu, left.dtype(), right.dtype(), out.dtype());
        add.bind(0, left.memory());
        add.bind(1, right.memory());
        add.bind(2, out.memory());
        add.execute();
    }

    @Override
    public void convert(Tensor from, Tensor to) {
        Tensor source = scratch.inLayout(from, to.layout(), CpuScratch.Slot.FIRST_INPUT);
        DnnlPrimitive reorder = primitives.convert(from.dtype(), to.dtype(), from.elementCount());
        reorder.bind(0, source.memory());
        reorder.bind(1, to.memory());
        reorder.execute();
    }
}
