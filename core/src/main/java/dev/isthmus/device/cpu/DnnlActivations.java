package dev.isthmus.device.cpu;

import dev.isthmus.device.Activation;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

/**
 * The activation family with oneDNN's element-wise primitives. GELU stays in Java: oneDNN's
 * gelu_erf approximates erf to about 1e-4 relative for large |x|, and no canonical model needs its
 * speed. Softmax and dropout are the Java ones.
 */
final class DnnlActivations extends CpuActivations {
    private final DnnlElementwise primitives;

    DnnlActivations(CpuParallel parallel, CpuScratch scratch, CpuSoftmax softmax, DnnlElementwise primitives) {
        super(parallel, scratch, softmax);
        this.primitives = primitives;
    }

    @Override
    public void forward(Activation function, float alpha, Tensor x, Tensor y) {
        if (function == Activation.GELU || function == Activation.BINARY_STEP) {
            super.forward(function, alpha, x, y);
            return;
        }
        Tensor input = scratch.inLayout(x, y.layout(), CpuScratch.Slot.FIRST_INPUT);
        DnnlPrimitive forward = primitives.forward(function, alpha, y.elementCount(), y.dtype());
        forward.bind(0, input.memory());
        forward.bind(1, y.memory());
        forward.execute();
    }

    @Override
    public void backward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        if (function == Activation.GELU) {
            super.backward(function, alpha, x, y, gradOutput, gradInput);
            return;
        }
        Layout layout = gradInput.layout();
        Tensor input = scratch.inLayout(x, layout, CpuScratch.Slot.FIRST_INPUT);
        Tensor upstream = scratch.inLayout(gradOutput, layout, CpuScratch.Slot.THIRD_INPUT);
        DnnlPrimitive backward = primitives.backward(function, alpha, gradInput.elementCount(), gradInput.dtype());
        backward.bind(0, input.memory());
        backward.bind(1, upstream.memory());
        backward.bind(2, gradInput.memory());
        backward.execute();
    }
}
