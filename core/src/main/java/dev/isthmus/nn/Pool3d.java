package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.Dims3;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.Pooling3dPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * The shared body of the 3-D pooling layers: a window (kernel, stride, padding, ceil mode) and a
 * device pooling plan per input shape. Settings return a configured copy, as Conv3d's do.
 */
public abstract sealed class Pool3d extends Layer permits MaxPool3d, AvgPool3d {
    /** The kernel. */
    protected final Dims3 kernel;
    /** The stride. */
    protected final Dims3 stride;
    /** The padding. */
    protected final Dims3 padding;
    /** The ceil mode. */
    protected final boolean ceilMode;
    private Pooling3dPlan plan;
    private Tensor output;
    private Tensor input;

    Pool3d(Dims3 kernel, Dims3 stride, Dims3 padding, boolean ceilMode) {
        if (kernel == null || stride == null || padding == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": sizes must not be null");
        }
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.ceilMode = ceilMode;
        // Validates the window now, on a nominal input as large as the kernel.
        new Pool3dGeometry(mode(), 1, 1, new Dims3(Math.max(1, kernel.depth()), Math.max(1, kernel.height()),
                Math.max(1, kernel.width())), kernel, stride, padding, ceilMode);
    }

    /** {@return max or average pooling, and whether padding counts in the average} */
    protected abstract PoolMode mode();

    /**
     * A copy of this layer with these settings.
     *
     * @param kernel the window size per axis
     * @param stride the step between windows per axis
     * @param padding the zero padding per axis
     * @param ceilMode whether output sizes round up (PyTorch's ceil_mode)
     * @return the with
     */
    protected abstract Pool3d with(Dims3 kernel, Dims3 stride, Dims3 padding, boolean ceilMode);

    /**
     * {@return {@code copy}, once it is certain the layer is not set up yet (settings change only before setup)}
     *
     * @param copy the configured copy
     * @param <T> the layer type
     */
    protected final <T extends Pool3d> T configured(T copy) {
        if (inputShape() != null) {
            throw new IllegalStateException(describe() + ": change settings before setup, not after");
        }
        return copy;
    }

    /** {@return the window} */
    protected final String window() {
        return "kernel=" + kernel + ", stride=" + stride + (padding.equals(Dims3.cube(0)) ? "" : ", padding=" + padding)
                + (ceilMode ? ", ceil_mode=true" : "");
    }

    /**
     * The window for the input the layer was set up for (what an exporter writes).
     *
     * @return the pooling geometry of the set-up input
     * @throws IllegalStateException before setup
     */
    public final Pool3dGeometry poolGeometry() {
        if (inputShape() == null) {
            throw new IllegalStateException(describe() + ": set it up before asking for its window");
        }
        return geometry(inputShape());
    }

    private Pool3dGeometry geometry(Shape input) {
        return new Pool3dGeometry(mode(), input.dim(0), input.dim(1), new Dims3(input.dim(2), input.dim(3), input.dim(4)),
                kernel, stride, padding, ceilMode);
    }

    @Override
    protected final Shape outputShapeFor(Shape input) {
        if (input.rank() != 5) {
            throw new IllegalArgumentException(describe() + ": expected input [N, C, D, H, W], got " + input);
        }
        try {
            return geometry(input).outputShape();
        } catch (IllegalArgumentException invalid) {
            throw new IllegalArgumentException(describe() + ": input " + input + ": " + invalid.getMessage());
        }
    }

    @Override
    protected final void allocateBuffers(Device device, Shape input, Shape output) {
        plan = device.pooling3d(geometry(input));
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
}
