package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/** Softmax over axis 1 (PyTorch's nn.Softmax(dim=1)); {@link LogSoftmax} is its logarithm. */
public class Softmax extends Layer {
    private final boolean log;
    private Tensor output;

    /** PyTorch's {@code Softmax(dim=1)}. */
    public Softmax() {
        this(false);
    }

    Softmax(boolean log) {
        this.log = log;
    }

    @Override
    public String describe() {
        return log ? "LogSoftmax(dim=1)" : "Softmax(dim=1)";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() < 2) {
            throw new IllegalArgumentException(describe() + ": expected input [N, C, ...], got " + input);
        }
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
        device().activations().softmaxForward(log, x, output);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        device().activations().softmaxBackward(log, output, gradOutput, gradInput());
        return gradInput();
    }
}
