package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/** The shared body of the pooling layers: a device pooling plan per input shape. */
abstract class Pool2d extends Layer {
    private PoolingPlan plan;
    private Tensor output;
    private Tensor input;

    /**
     * The window for an input of this shape (validated).
     *
     * @param input the input shape
     * @return the window for an input of this shape (validated)
     */
    protected abstract PoolGeometry geometry(Shape input);

    /**
     * The window for the input the layer was set up for (what an exporter writes).
     *
     * @throws IllegalStateException before setup
     * @return the window
     */
    public final PoolGeometry window() {
        if (inputShape() == null) {
            throw new IllegalStateException(describe() + ": set it up before asking for its window");
        }
        return geometry(inputShape());
    }

    @Override
    protected final Shape outputShapeFor(Shape input) {
        if (input.rank() != 4) {
            throw new IllegalArgumentException(describe() + ": expected input [N, C, H, W], got " + input);
        }
        try {
            return geometry(input).outputShape();
        } catch (IllegalArgumentException invalid) {
            throw new IllegalArgumentException(describe() + ": input " + input + ": " + invalid.getMessage());
        }
    }

    @Override
    protected final void allocateBuffers(Device device, Shape input, Shape output) {
        plan = device.pooling(geometry(input));
        this.output = allocateOutput(device, output);
    }

    @Override
    protected final void releaseBuffers() {
        closeAll(plan, output);
    }

    @Override
    protected final Tensor doForward(Tensor x, boolean training) {
        input = x;
        plan.forward(x, output);
        return output;
    }

    @Override
    protected final Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        plan.backward(input, output, gradOutput, gradInput());
        return gradInput();
    }

    static PoolGeometry window(PoolMode mode, Shape input, int kh, int kw, int sh, int sw, int ph, int pw) {
        return new PoolGeometry(mode, input.dim(0), input.dim(1), input.dim(2), input.dim(3), kh, kw, sh, sw, ph, pw);
    }
}
