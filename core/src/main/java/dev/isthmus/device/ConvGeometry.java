package dev.isthmus.device;

import dev.isthmus.tensor.Shape;

/**
 * A 2-D convolution's sizes (NCHW input, OIHW weights with I = inChannels / groups): the same
 * numbers PyTorch's {@code Conv2d} and cuDNN's descriptors take. The constructor refuses
 * impossible combinations with a message naming them.
 *
 * @param batch N, the samples
 * @param inChannels the input channels
 * @param height the input height
 * @param width the input width
 * @param outChannels the output channels
 * @param kernelHeight the window's height
 * @param kernelWidth the window's width
 * @param strideHeight the vertical stride
 * @param strideWidth the horizontal stride
 * @param padHeight the zero padding above and below
 * @param padWidth the zero padding left and right
 * @param dilationHeight the vertical dilation
 * @param dilationWidth the horizontal dilation
 * @param groups the number of groups (inChannels and outChannels divisible by it)
 */
public record ConvGeometry(int batch, int inChannels, int height, int width,
                           int outChannels, int kernelHeight, int kernelWidth,
                           int strideHeight, int strideWidth, int padHeight, int padWidth,
                           int dilationHeight, int dilationWidth, int groups) {

    /** Validates the sizes, naming the one that is impossible. */
    public ConvGeometry {
        String where = "Conv2d(" + inChannels + ", " + outChannels + ", kernel " + kernelHeight + "x" + kernelWidth
                + ", stride " + strideHeight + "x" + strideWidth + ", padding " + padHeight + "x" + padWidth
                + ", dilation " + dilationHeight + "x" + dilationWidth + ", groups " + groups + ")";
        if (batch < 0) {
            throw new IllegalArgumentException(where + ": batch must be >= 0, got " + batch);
        }
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException(where + ": channel counts must be > 0");
        }
        if (kernelHeight <= 0 || kernelWidth <= 0) {
            throw new IllegalArgumentException(where + ": kernel size must be > 0");
        }
        if (strideHeight <= 0 || strideWidth <= 0) {
            throw new IllegalArgumentException(where + ": stride must be > 0");
        }
        if (dilationHeight <= 0 || dilationWidth <= 0) {
            throw new IllegalArgumentException(where + ": dilation must be > 0");
        }
        if (padHeight < 0 || padWidth < 0) {
            throw new IllegalArgumentException(where + ": padding must be >= 0");
        }
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(where + ": groups must divide both channel counts");
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException(where + ": input " + height + "x" + width + " must be at least 1x1");
        }
        long outHeight = outputSize(height, kernelHeight, strideHeight, padHeight, dilationHeight);
        long outWidth = outputSize(width, kernelWidth, strideWidth, padWidth, dilationWidth);
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException(where + ": input " + height + "x" + width
                    + " is smaller than the dilated kernel " + ((long) dilationHeight * (kernelHeight - 1) + 1) + "x"
                    + ((long) dilationWidth * (kernelWidth - 1) + 1) + " plus padding");
        }
        Shape.of(batch, inChannels, height, width);
        Shape.of(batch, outChannels, (int) outHeight, (int) outWidth);
        Shape.of(inChannels / groups * kernelHeight * kernelWidth, (int) (outHeight * outWidth));
    }

    private static long outputSize(int size, int kernel, int stride, int pad, int dilation) {
        return ((long) size + 2L * pad - (long) dilation * (kernel - 1) - 1) / stride + 1;
    }

    /** {@return the output height} */
    public int outHeight() {
        return (int) outputSize(height, kernelHeight, strideHeight, padHeight, dilationHeight);
    }

    /** {@return the output width} */
    public int outWidth() {
        return (int) outputSize(width, kernelWidth, strideWidth, padWidth, dilationWidth);
    }

    /** {@return the input shape, [batch, inChannels, height, width]} */
    public Shape inputShape() {
        return Shape.of(batch, inChannels, height, width);
    }

    /** {@return the output shape, [batch, outChannels, outHeight, outWidth]} */
    public Shape outputShape() {
        return Shape.of(batch, outChannels, outHeight(), outWidth());
    }

    /** {@return the weight shape, [outChannels, inChannels / groups, kernelHeight, kernelWidth]} */
    public Shape weightShape() {
        return Shape.of(outChannels, inChannels / groups, kernelHeight, kernelWidth);
    }

    /**
     * Multiply-adds of one forward pass, for GFLOP/s figures.
     *
     * @return the multiply-adds of one forward pass
     */
    public long multiplyAdds() {
        return (long) batch * outChannels * outHeight() * outWidth() * (inChannels / groups) * kernelHeight * kernelWidth;
    }
}
