package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/** [N, d1, d2, ...] to [N, d1·d2·...]: a view of the same memory, no copy. */
public final class Flatten extends Layer {
    private Tensor lastInput;
    private Tensor flatView;
    private Tensor lastGradOutput;
    private Tensor gradView;

    @Override
    public String describe() {
        return "Flatten()";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() < 1) {
            throw new IllegalArgumentException(describe() + ": expected input [N, ...], got " + input);
        }
        return Shape.of(input.dim(0), input.featuresPerSample());
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        lastInput = null;
        lastGradOutput = null;
    }

    @Override
    protected void releaseBuffers() {
        lastInput = null;
        lastGradOutput = null;
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        // Upstream layers hand back the same buffer every step, so the view is made once.
        if (x != lastInput) {
            lastInput = x;
            flatView = x.reshape(outputShape());
        }
        return flatView;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        if (gradOutput != lastGradOutput) {
            lastGradOutput = gradOutput;
            gradView = gradOutput.reshape(inputShape());
        }
        return gradView;
    }
}
