package dev.isthmus.device;

import dev.isthmus.tensor.Shape;

/**
 * A 2-D pooling window over an NCHW input. As in PyTorch, padding may be at most half the
 * kernel (a window made only of padding has no maximum).
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
public record PoolGeometry(PoolMode mode, int batch, int channels, int height, int width,
                           int kernelHeight, int kernelWidth, int strideHeight, int strideWidth,
                           int padHeight, int padWidth) {

    /** Validates the sizes, naming the one that is impossible. */
    public PoolGeometry {
        String where = mode + " pool(kernel " + kernelHeight + "x" + kernelWidth + ", stride " + strideHeight + "x"
                + strideWidth + ", padding " + padHeight + "x" + padWidth + ")";
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
        return (height + 2 * padHeight - kernelHeight) / strideHeight + 1;
    }

    /** {@return the output width} */
    public int outWidth() {
        return (width + 2 * padWidth - kernelWidth) / strideWidth + 1;
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
