package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * PyTorch's {@code nn.AdaptiveAvgPool2d((oh, ow))}: [N, C, H, W] to [N, C, oh, ow], output (i, j) the
 * mean of rows floor(i·H/oh) to ceil((i+1)·H/oh) − 1 and columns floor(j·W/ow) to ceil((j+1)·W/ow) − 1,
 * for any output size (an output larger than the input repeats rows and columns, as PyTorch's does).
 *
 * <p>When oh divides H and ow divides W every window is the same size (H/oh by W/ow, stride equal to
 * it): that fast path runs on the device's pooling plans (oneDNN, OpenBLAS engine, cuDNN), and
 * {@link #window()} gives the equivalent average pool. Other sizes have windows of varying size that
 * may overlap; they run on the activation family's adaptive-pool kernels (CPU; refused on CUDA).
 */
public final class AdaptiveAvgPool2d extends Layer {
    private final int outHeight;
    private final int outWidth;
    private PoolingPlan plan;
    private Tensor output;
    private Tensor input;

    /**
     * PyTorch's {@code AdaptiveAvgPool2d((outHeight, outWidth))}.
     *
     * @param outHeight the output height (&gt; 0)
     * @param outWidth the output width (&gt; 0)
     * @throws IllegalArgumentException for a size below 1
     */
    public AdaptiveAvgPool2d(int outHeight, int outWidth) {
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException("AdaptiveAvgPool2d: output size must be > 0, got (" + outHeight + ", "
                    + outWidth + ")");
        }
        this.outHeight = outHeight;
        this.outWidth = outWidth;
    }

    /**
     * PyTorch's {@code AdaptiveAvgPool2d(size)}: a square output.
     *
     * @param size the output height and width (&gt; 0)
     */
    public AdaptiveAvgPool2d(int size) {
        this(size, size);
    }

    /** {@return the output height} */
    public int outHeight() {
        return outHeight;
    }

    /** {@return the output width} */
    public int outWidth() {
        return outWidth;
    }

    @Override
    public String describe() {
        return "AdaptiveAvgPool2d((" + outHeight + ", " + outWidth + "))";
    }

    /**
     * Whether an input of this shape gives windows of one size (the output sizes divide the input's).
     *
     * @param input an input shape [N, C, H, W]
     * @return true when oh divides H and ow divides W
     */
    public boolean uniformFor(Shape input) {
        return input.rank() == 4 && input.dim(2) % outHeight == 0 && input.dim(3) % outWidth == 0;
    }

    /**
     * The average pool equal to this layer for the input it was set up for (what an exporter writes).
     *
     * @return the window
     * @throws IllegalStateException before setup, or when the windows are not uniform (no single
     *                               average pool computes them)
     */
    public PoolGeometry window() {
        Shape shape = inputShape();
        if (shape == null) {
            throw new IllegalStateException(describe() + ": set it up before asking for its window");
        }
        if (!uniformFor(shape)) {
            throw new IllegalStateException(describe() + ": input " + shape + " gives windows of varying size "
                    + "(output sizes do not divide H=" + shape.dim(2) + ", W=" + shape.dim(3) + "); no single average "
                    + "pool computes them");
        }
        int kh = shape.dim(2) / outHeight;
        int kw = shape.dim(3) / outWidth;
        return Pool2d.window(PoolMode.AVERAGE_INCLUDE_PADDING, shape, kh, kw, kh, kw, 0, 0);
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() != 4) {
            throw new IllegalArgumentException(describe() + ": expects [N, C, H, W], got " + input);
        }
        if (input.dim(1) <= 0 || input.dim(2) <= 0 || input.dim(3) <= 0) {
            throw new IllegalArgumentException(describe() + ": input " + input + " must have channels, H and W > 0");
        }
        return Shape.of(input.dim(0), input.dim(1), outHeight, outWidth);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        if (uniformFor(input)) {
            plan = device.pooling(window());
        }
        this.output = device.allocateActivation(output);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(plan, output);
        plan = null;
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        input = x;
        if (plan != null) {
            plan.forward(x, output);
        } else {
            device().activations().adaptiveAvgPoolForward(x, output);
        }
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        if (plan != null) {
            plan.backward(input, output, gradOutput, gradInput());
        } else {
            device().activations().adaptiveAvgPoolBackward(gradOutput, gradInput());
        }
        return gradInput();
    }
}
