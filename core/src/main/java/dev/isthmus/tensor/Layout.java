package dev.isthmus.tensor;

/**
 * How a tensor's elements are ordered in memory. Shapes are always logical (NCHW for images), and
 * host copies always use the logical row-major order; only the device-side order differs.
 */
public enum Layout {
    /** Row-major in the logical order: NCHW for images. */
    ROW_MAJOR,
    /**
     * For rank-4 tensors only: N, H, W, C in memory (NHWC), with the logical shape still [N, C, H, W].
     * oneDNN's AVX-512 convolutions run 2–6× faster on it than on NCHW.
     */
    CHANNELS_LAST;

    /**
     * The physical offset of logical element (n, c, h, w) of a [N, C, H, W] tensor.
     *
     * @param channels the channels
     * @param height the height
     * @param width the width
     * @param n the sample
     * @param c the channel
     * @param h the row
     * @param w the column
     * @return the physical offset of logical element (n, c, h, w) of a [N, C, H, W] tensor
     */
    public long offset(int channels, int height, int width, int n, int c, int h, int w) {
        return this == ROW_MAJOR ? (((long) n * channels + c) * height + h) * width + w
                : (((long) n * height + h) * width + w) * channels + c;
    }
}
