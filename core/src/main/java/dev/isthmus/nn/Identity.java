package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * PyTorch's {@code nn.Identity}: the output is the input and dL/dx is dL/dy, both handed on
 * without a copy. A {@link Concat} branch that keeps its input (U-Net's skip connection) is one.
 */
public final class Identity extends Layer {
    /** The identity, for any input shape. */
    public Identity() {
    }

    @Override
    public String describe() {
        return "Identity()";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        return input;
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
    }

    @Override
    protected void releaseBuffers() {
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        return x;
    }

    /** dL/dx is dy itself: no buffer of its own. */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        return propagatesDown() ? gradOutput : null;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        return propagatesDown() ? gradOutput : null;
    }
}
