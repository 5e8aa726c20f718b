package dev.isthmus.device;

import dev.isthmus.tensor.Shape;

/**
 * A 3-D pooling window over an NCDHW input, with PyTorch's output size: floor, or with
 * {@code ceilMode} ceil, of (in + 2·pad − kernel) / stride, plus one, where a ceil-mode window
 * must still start inside the input or its left padding. As in PyTorch, padding may be at most
 * half the kernel, so no window is made only of padding.
 *
 * @param mode max or average (with or without padding counted)
 * @param batch the batch size N
 * @param channels the channels C
 * @param input the input sizes (depth, height, width)
 * @param kernel the window size per axis
 * @param stride the step between windows per axis
 * @param padding the zero padding per axis
 * @param ceilMode whether output sizes round up (PyTorch's ceil_mode)
 */
public record Pool3dGeometry(PoolMode mode, int batch, int channels, Dims3 input, Dims3 kernel, Dims3 stride,
                             Dims3 padding, boolean ceilMode) {

    /**
     * Checks the components.
     *
     * @param mode max or average (with or without padding counted)
     * @param batch the batch size N
     * @param channels the channels C
     * @param input the input sizes (depth, height, width)
     * @param kernel the window size per axis
     * @param stride the step between windows per axis
     * @param padding the zero padding per axis
     * @param ceilMode whether output sizes round up (PyTorch's ceil_mode)
     */
    public Pool3dGeometry {
        if (mode == null || input == null || kernel == null || stride == null || padding == null) {
            throw new IllegalArgumentException("pool3d: mode and sizes must not be null");
        }
        String where = mode + " pool3d(kernel " + kernel + ", stride " + stride + ", padding " + padding
                + (ceilMode ? ", ceil_mode" : "") + ")";
        if (batch < 0 || channels <= 0 || !input.allAtLeast(1)) {
            throw new IllegalArgumentException(where + ": input [" + batch + ", " + channels + ", " + input.depth() + ", "
                    + input.height() + ", " + input.width() + "] must have channels and spatial size > 0");
        }
        if (!kernel.allAtLeast(1) || !stride.allAtLeast(1)) {
            throw new IllegalArgumentException(where + ": kernel and stride must be > 0");
        }
        for (int axis = 0; axis < 3; axis++) {
            if (padding.get(axis) < 0 || padding.get(axis) > kernel.get(axis) / 2) {
                throw new IllegalArgumentException(where + ": padding must be between 0 and half the kernel");
            }
            if ((long) input.get(axis) + 2L * padding.get(axis) < kernel.get(axis)) {
                throw new IllegalArgumentException(where + ": input " + input.depth() + "x" + input.height() + "x"
                        + input.width() + " is smaller than the kernel");
            }
        }
        Shape.of(batch, channels, input.depth(), input.height(), input.width());
    }

    /** PyTorch's pooling_output_shape for one axis. */
    private int outputSize(int axis) {
        int in = input.get(axis);
        int k = kernel.get(axis);
        int s = stride.get(axis);
        int p = padding.get(axis);
        int out = (in + 2 * p - k + (ceilMode ? s - 1 : 0)) / s + 1;
        if (ceilMode && (long) (out - 1) * s >= in + p) {
            // The last window would start in the right padding: PyTorch drops it.
            out--;
        }
        return out;
    }

    /** {@return the output} */
    public Dims3 output() {
        return new Dims3(outputSize(0), outputSize(1), outputSize(2));
    }

    /**
     * How far the last window reaches past the input on the right of each axis (at least the
     * left padding): what oneDNN needs as its right padding to produce the same output size.
     *
     * @return the right padding
     */
    public Dims3 rightPadding() {
        Dims3 out = output();
        int[] pad = new int[3];
        for (int axis = 0; axis < 3; axis++) {
            int reach = (out.get(axis) - 1) * stride.get(axis) + kernel.get(axis) - input.get(axis) - padding.get(axis);
            pad[axis] = Math.max(padding.get(axis), reach);
        }
        return new Dims3(pad[0], pad[1], pad[2]);
    }

    /** {@return the input shape} */
    public Shape inputShape() {
        return Shape.of(batch, channels, input.depth(), input.height(), input.width());
    }

    /** {@return the output shape} */
    public Shape outputShape() {
        Dims3 out = output();
        return Shape.of(batch, channels, out.depth(), out.height(), out.width());
    }
}
