package dev.isthmus.nn;

import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.tensor.Shape;

/**
 * Max pooling (PyTorch's nn.MaxPool2d without dilation): {@code ceilMode(true)} rounds the output
 * size up as {@code ceil_mode=True} does (torchvision's GoogLeNet), on the CPU engines; on CUDA a
 * window that hangs over the edge is refused.
 */
public final class MaxPool2d extends Pool2d {
    private final int kernel;
    private final int stride;
    private final int padding;
    private final boolean ceilMode;

    /**
     * Kernel and stride equal, no padding: MaxPool2d(2) halves each side.
     *
     * @param kernel the window size (square)
     */
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    /**
     * PyTorch's {@code MaxPool2d(kernel, stride, padding)}.
     *
     * @param kernel the window size (square)
     * @param stride the stride
     * @param padding the zero padding on each side
     */
    public MaxPool2d(int kernel, int stride, int padding) {
        this(kernel, stride, padding, false);
    }

    /**
     * PyTorch's {@code MaxPool2d(kernel, stride, padding, ceil_mode=ceilMode)}.
     *
     * @param kernel the window size (square)
     * @param stride the stride
     * @param padding the implicit −∞ padding on each side
     * @param ceilMode round the output size up (the last window may hang over the bottom and right edges)
     */
    public MaxPool2d(int kernel, int stride, int padding, boolean ceilMode) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.ceilMode = ceilMode;
        validate(PoolMode.MAX, kernel, stride, padding);
    }

    /**
     * A {@code kernel}-square window with stride = kernel and no padding; {@code MaxPool2d.of(3).stride(2).padding(1)}.
     *
     * @param kernel the window size (square)
     * @return a {@code kernel}-square window with stride = kernel and no padding; {@code MaxPool2d.of(3).stride(2).padding(1)}
     */
    public static MaxPool2d of(int kernel) {
        return new MaxPool2d(kernel);
    }

    /**
     * A copy with this stride.
     *
     * @param stride the stride
     * @return a copy with this stride
     */
    public MaxPool2d stride(int stride) {
        return configured(new MaxPool2d(kernel, stride, padding, ceilMode));
    }

    /**
     * A copy that rounds its output size up or down ({@code ceil_mode}).
     *
     * @param ceil whether to round up
     * @return a copy with this rounding
     */
    public MaxPool2d ceilMode(boolean ceil) {
        return configured(new MaxPool2d(kernel, stride, padding, ceil));
    }

    /** {@return whether the output size rounds up (PyTorch's ceil_mode)} */
    public boolean ceilMode() {
        return ceilMode;
    }

    /**
     * A copy with this padding on each side (implicit −∞).
     *
     * @param padding the zero padding on each side
     * @return a copy with this padding on each side (implicit −∞)
     */
    public MaxPool2d padding(int padding) {
        return configured(new MaxPool2d(kernel, stride, padding, ceilMode));
    }

    private MaxPool2d configured(MaxPool2d copy) {
        if (inputShape() != null) {
            throw new IllegalStateException(describe() + ": change settings before setup, not after");
        }
        return copy;
    }

    static void validate(PoolMode mode, int kernel, int stride, int padding) {
        int side = Math.max(1, kernel);
        new PoolGeometry(mode, 1, 1, side, side, kernel, kernel, stride, stride, padding, padding);
    }

    @Override
    public String describe() {
        return "MaxPool2d(kernel=" + kernel + ", stride=" + stride + (padding != 0 ? ", padding=" + padding : "")
                + (ceilMode ? ", ceil_mode=True" : "") + ")";
    }

    @Override
    protected PoolGeometry geometry(Shape input) {
        return new PoolGeometry(PoolMode.MAX, input.dim(0), input.dim(1), input.dim(2), input.dim(3), kernel, kernel, stride,
                stride, padding, padding, ceilMode);
    }
}
