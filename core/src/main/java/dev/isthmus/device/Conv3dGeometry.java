package dev.isthmus.device;

import dev.isthmus.tensor.Shape;

/**
 * A 3-D convolution's sizes (NCDHW input, weights [O, I/groups, kD, kH, kW]): the numbers PyTorch's
 * {@code Conv3d} takes. The constructor refuses impossible combinations with a message naming them.
 *
 * @param batch the batch size N
 * @param inChannels the input channels
 * @param input the input sizes (depth, height, width)
 * @param outChannels the output channels
 * @param kernel the window size per axis
 * @param stride the step between windows per axis
 * @param padding the zero padding per axis
 * @param dilation the spacing between kernel taps per axis
 * @param groups the number of channel groups
 */
public record Conv3dGeometry(int batch, int inChannels, Dims3 input, int outChannels, Dims3 kernel, Dims3 stride,
                             Dims3 padding, Dims3 dilation, int groups) {

    /**
     * Checks the components.
     *
     * @param batch the batch size N
     * @param inChannels the input channels
     * @param input the input sizes (depth, height, width)
     * @param outChannels the output channels
     * @param kernel the window size per axis
     * @param stride the step between windows per axis
     * @param padding the zero padding per axis
     * @param dilation the spacing between kernel taps per axis
     * @param groups the number of channel groups
     */
    public Conv3dGeometry {
        if (input == null || kernel == null || stride == null || padding == null || dilation == null) {
            throw new IllegalArgumentException("Conv3d: sizes must not be null");
        }
        String where = "Conv3d(" + inChannels + ", " + outChannels + ", kernel " + kernel + ", stride " + stride
                + ", padding " + padding + ", dilation " + dilation + ", groups " + groups + ")";
        if (batch < 0) {
            throw new IllegalArgumentException(where + ": batch must be >= 0, got " + batch);
        }
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException(where + ": channel counts must be > 0");
        }
        if (!kernel.allAtLeast(1) || !stride.allAtLeast(1) || !dilation.allAtLeast(1)) {
            throw new IllegalArgumentException(where + ": kernel, stride and dilation must be > 0");
        }
        if (!padding.allAtLeast(0)) {
            throw new IllegalArgumentException(where + ": padding must be >= 0");
        }
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(where + ": groups must divide both channel counts");
        }
        if (!input.allAtLeast(1)) {
            throw new IllegalArgumentException(where + ": input " + input + " must be at least 1x1x1");
        }
        for (int axis = 0; axis < 3; axis++) {
            if (outputSize(input, kernel, stride, padding, dilation, axis) <= 0) {
                throw new IllegalArgumentException(where + ": input " + input.depth() + "x" + input.height() + "x"
                        + input.width() + " is smaller than the dilated kernel plus padding along axis " + (axis + 2));
            }
        }
        Shape.of(batch, inChannels, input.depth(), input.height(), input.width());
        Dims3 out = new Dims3((int) outputSize(input, kernel, stride, padding, dilation, 0),
                (int) outputSize(input, kernel, stride, padding, dilation, 1),
                (int) outputSize(input, kernel, stride, padding, dilation, 2));
        Shape.of(batch, outChannels, out.depth(), out.height(), out.width());
        // The column matrix of the im2col fallback must be addressable too.
        Shape.of(Math.toIntExact(inChannels / groups * kernel.volume()), Math.toIntExact(out.volume()));
    }

    private static long outputSize(Dims3 input, Dims3 kernel, Dims3 stride, Dims3 padding, Dims3 dilation, int axis) {
        return ((long) input.get(axis) + 2L * padding.get(axis) - (long) dilation.get(axis) * (kernel.get(axis) - 1) - 1)
                / stride.get(axis) + 1;
    }

    /**
     * The output's depth, height and width.
     *
     * @return the output
     */
    public Dims3 output() {
        return new Dims3((int) outputSize(input, kernel, stride, padding, dilation, 0),
                (int) outputSize(input, kernel, stride, padding, dilation, 1),
                (int) outputSize(input, kernel, stride, padding, dilation, 2));
    }

    /** {@return the input shape} */
    public Shape inputShape() {
        return Shape.of(batch, inChannels, input.depth(), input.height(), input.width());
    }

    /** {@return the output shape} */
    public Shape outputShape() {
        Dims3 out = output();
        return Shape.of(batch, outChannels, out.depth(), out.height(), out.width());
    }

    /** {@return the weight shape} */
    public Shape weightShape() {
        return Shape.of(outChannels, inChannels / groups, kernel.depth(), kernel.height(), kernel.width());
    }

    /**
     * Multiply-adds of one forward pass, for GFLOP/s figures.
     *
     * @return the multiply adds
     */
    public long multiplyAdds() {
        return (long) batch * outChannels * output().volume() * (inChannels / groups) * kernel.volume();
    }
}
