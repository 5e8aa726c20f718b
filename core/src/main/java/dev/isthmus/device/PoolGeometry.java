package dev.isthmus.device;

import dev.isthmus.tensor.Shape;

/**
 * A 2-D pooling window over an NCHW input. As in PyTorch, padding may be at most half the
 * kernel (a window made only of padding has no maximum). In ceil mode the output size rounds up,
 * so the last window may hang over the bottom and right edges (PyTorch's {@code ceil_mode=True},
 * with its rule that a window must start inside the input or its left padding): the overhang is
 * {@link #extraPadBottom()} and {@link #extraPadRight()}, which a max ignores and an average
 * leaves out of its divisor.
 *
 * @param mode max or average (with or without padding)
 * @param batch N, the samples
 * @param channels the channels
 * @param height the input height
 * @param width the input width
 * @param kernelHeight the window's height
 * @param kernelWidth the window's width
 * @param strideHeight the vertical stride
 * @param strideWidth the horizontal stride
 * @param padHeight the zero padding above and below
 * @param padWidth the zero padding left and right
 * @param ceilMode round the output size up, as PyTorch's {@code ceil_mode=True}
 */
public record PoolGeometry(PoolMode mode, int batch, int channels, int height, int width,
                           int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
                           int padHeight, int padWidth, boolean ceilMode) {

    /**
     * A floor-mode window (PyTorch's default).
     *
     * @param mode max or average (with or without padding)
     * @param batch N, the samples
     * @param channels the channels
     * @param height the input height
     * @param width the input width
     * @param kernelHeight the window's height
     * @param kernelWidth the window's width
     * @param strideHeight the vertical stride
     * @param strideWidth the horizontal stride
     * @param padHeight the zero padding above and below
     * @param padWidth the zero padding left and right
     */
    public PoolGeometry(PoolMode mode, int batch, int channels, int height, int width, int kernelHeight, int kernelWidth,
                        int strideHeight, int strideWidth, int padHeight, int padWidth) {
        this(mode, batch, channels, height, width, kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight, padWidth,
                false);
    }

    /** Validates the sizes, naming the one that is impossible. */
    public PoolGeometry {
        String where = mode + " pool(kernel " + kernelHeight + "x" + kernelWidth + ", stride " + strideHeight + "x"
                + strideWidth + ", padding " + padHeight + "x" + padWidth + (ceilMode ? ", ceil mode" : "") + ")";
        if (mode == null) {
            throw new IllegalArgumentException("pool: mode must not be null");
        }
        if (batch < 0 || channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException(where + ": input [" + batch + ", " + channels + ", " + height + ", "
                    + width + "] must have channels and spatial size > 0");
        }
        if (kernelHeight <= 0 || kernelWidth <= 0 || strideHeight <= 0 || strideWidth <= 0) {
            throw new IllegalArgumentException(where + ": kernel and stride must be > 0");
        }
        if (padHeight < 0 || padWidth < 0 || padHeight > kernelHeight / 2 || padWidth > kernelWidth / 2) {
            throw new IllegalArgumentException(where + ": padding must be between 0 and half the kernel");
        }
        if (height + 2 * padHeight < kernelHeight || width + 2 * padWidth < kernelWidth) {
            throw new IllegalArgumentException(where + ": input " + height + "x" + width + " is smaller than the kernel");
        }
        Shape.of(batch, channels, height, width);
    }

    /** {@return the output height} */
    public int outHeight() {
        return outputSize(height, kernelHeight, strideHeight, padHeight, ceilMode);
    }

    /** {@return the output width} */
    public int outWidth() {
        return outputSize(width, kernelWidth, strideWidth, padWidth, ceilMode);
    }

    /** {@return how far the last window hangs below the padded input in ceil mode (0 in floor mode)} */
    public int extraPadBottom() {
        return Math.max(0, (outHeight() - 1) * strideHeight + kernelHeight - (height + 2 * padHeight));
    }

    /** {@return how far the last window hangs right of the padded input in ceil mode (0 in floor mode)} */
    public int extraPadRight() {
        return Math.max(0, (outWidth() - 1) * strideWidth + kernelWidth - (width + 2 * padWidth));
    }

    /**
     * PyTorch's pooling output size: (in + 2p − k) / s + 1, rounded down, or up in ceil mode where
     * the last window must still start inside the input or its left padding.
     */
    private static int outputSize(int in, int kernel, int stride, int pad, boolean ceil) {
        int span = in + 2 * pad - kernel;
        int out = (ceil ? Math.ceilDiv(span, stride) : span / stride) + 1;
        if (ceil && (long) (out - 1) * stride >= in + pad) {
            out--;
        }
        return out;
    }

    /** {@return the input shape, [batch, channels, height, width]} */
    public Shape inputShape() {
        return Shape.of(batch, channels, height, width);
    }

    /** {@return the output shape, [batch, channels, outHeight, outWidth]} */
    public Shape outputShape() {
        return Shape.of(batch, channels, outHeight(), outWidth());
    }
}
