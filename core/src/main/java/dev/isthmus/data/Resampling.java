package dev.isthmus.data;

/**
 * Bilinear resizing with antialiasing and center cropping of one image plane (row-major floats),
 * as torchvision's {@code Resize(..., antialias=True)} and {@code CenterCrop} compute them.
 *
 * <p>The resize is Pillow's separable resampling, which torchvision's antialiased bilinear
 * ({@code _upsample_bilinear2d_aa}) reproduces: output index i of an axis scaled by
 * s = in / out is the normalised sum of the inputs j with triangle weights
 * {@code max(0, 1 - |(j + 0.5 - c) / max(s, 1)|)} around the centre c = s·(i + 0.5), over
 * j in [int(c - max(s, 1) + 0.5), int(c + max(s, 1) + 0.5)) clipped to the image. Enlarging
 * (s &lt; 1) this is plain bilinear interpolation with half-pixel centres (align_corners=False);
 * shrinking, the triangle widens to cover every input pixel, so small outputs do not alias. At
 * s = 1 the weights are exactly 0 and 1, so an image already at the output size comes back
 * unchanged. Width is resampled first, then height; sums are in double.
 *
 * <p>Both operations take a window [top, top + rows) × [left, left + cols) of the (virtual) output,
 * so a crop after a resize computes only the pixels it keeps; window pixels outside the output
 * are zero, as torchvision's CenterCrop pads.
 */
final class Resampling {
    private Resampling() {
    }

    /** The weights of one output index: inputs [first, first + weights.length). */
    private record Taps(int first, double[] weights) {
        static final Taps NONE = new Taps(0, new double[0]);
    }

    /**
     * The window of {@code plane} (sourceHeight × sourceWidth) resized to outHeight × outWidth.
     *
     * @return rows × cols floats, row-major
     */
    static float[] resize(float[] plane, int sourceHeight, int sourceWidth, long outHeight, long outWidth,
                          long top, long left, int rows, int cols) {
        Taps[] across = taps(sourceWidth, outWidth, left, cols);
        Taps[] down = taps(sourceHeight, outHeight, top, rows);
        // Width first, over the source rows the window needs.
        int firstRow = sourceHeight;
        int endRow = 0;
        for (Taps tap : down) {
            if (tap.weights().length > 0) {
                firstRow = Math.min(firstRow, tap.first());
                endRow = Math.max(endRow, tap.first() + tap.weights().length);
            }
        }
        int neededRows = Math.max(0, endRow - firstRow);
        float[] horizontal = new float[neededRows * cols];
        for (int row = 0; row < neededRows; row++) {
            int source = (firstRow + row) * sourceWidth;
            for (int x = 0; x < cols; x++) {
                Taps tap = across[x];
                horizontal[row * cols + x] = (float) weighted(plane, source + tap.first(), 1, tap.weights());
            }
        }
        float[] out = new float[rows * cols];
        for (int y = 0; y < rows; y++) {
            Taps tap = down[y];
            if (tap.weights().length == 0) {
                continue;
            }
            for (int x = 0; x < cols; x++) {
                out[y * cols + x] = (float) weighted(horizontal, (tap.first() - firstRow) * cols + x, cols, tap.weights());
            }
        }
        return out;
    }

    /** The window of {@code plane} as it is (no resampling), zero outside the image. */
    static float[] crop(float[] plane, int sourceHeight, int sourceWidth, long top, long left, int rows, int cols) {
        float[] out = new float[rows * cols];
        for (int y = 0; y < rows; y++) {
            long sourceY = top + y;
            if (sourceY < 0 || sourceY >= sourceHeight) {
                continue;
            }
            for (int x = 0; x < cols; x++) {
                long sourceX = left + x;
                if (sourceX >= 0 && sourceX < sourceWidth) {
                    out[y * cols + x] = plane[(int) sourceY * sourceWidth + (int) sourceX];
                }
            }
        }
        return out;
    }

    /** The sum of weights[j] · values[index + j·stride]. */
    private static double weighted(float[] values, int index, int stride, double[] weights) {
        double sum = 0;
        for (int j = 0; j < weights.length; j++) {
            sum += weights[j] * values[index + j * stride];
        }
        return sum;
    }

    /** The taps of output indices [start, start + count) on an axis from {@code in} to {@code out} pixels. */
    private static Taps[] taps(int in, long out, long start, int count) {
        double scale = (double) in / out;
        double support = Math.max(scale, 1.0);
        double invScale = 1.0 / support;
        Taps[] taps = new Taps[count];
        for (int k = 0; k < count; k++) {
            long i = start + k;
            if (i < 0 || i >= out) {
                taps[k] = Taps.NONE;
                continue;
            }
            double center = scale * (i + 0.5);
            // (long) truncates toward zero, as the C++ cast in Pillow and PyTorch does.
            int first = (int) Math.max((long) (center - support + 0.5), 0);
            int end = (int) Math.min((long) (center + support + 0.5), in);
            double[] weights = new double[Math.max(0, end - first)];
            double total = 0;
            for (int j = 0; j < weights.length; j++) {
                double weight = Math.max(0, 1 - Math.abs((j + first - center + 0.5) * invScale));
                weights[j] = weight;
                total += weight;
            }
            if (total != 0) {
                for (int j = 0; j < weights.length; j++) {
                    weights[j] /= total;
                }
            }
            taps[k] = new Taps(first, weights);
        }
        return taps;
    }
}
