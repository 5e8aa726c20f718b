package dev.isthmus.nn;

import dev.isthmus.device.Activation;
import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/** An element-wise activation layer of any shape; the subclasses name the function. */
public abstract class ElementwiseActivation extends Layer {
    private final Activation function;
    private final float alpha;
    private Tensor output;
    private Tensor input;

    /**
     * For subclasses: {@code function} with its parameter {@code alpha} (slope or scale; 0 when unused).
     *
     * @param function the activation function
     * @param alpha the scale
     */
    protected ElementwiseActivation(Activation function, float alpha) {
        this.function = function;
        this.alpha = alpha;
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        return input;
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        this.output = allocateOutput(device, output);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output);
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        input = x;
        device().activations().forward(function, alpha, x, output);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        device().activations().backward(function, alpha, input, output, gradOutput, gradInput());
        return gradInput();
    }
}
