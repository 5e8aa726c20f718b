package dev.isthmus.device.cpu;

import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The CPU's functions over a window of channels or pixels: local response normalisation, maxout
 * and adaptive average pooling, in Java loops split over the cores. Every operand of one call
 * shares a layout (the caller converts through scratch); indexing follows that layout, so a
 * channels-last activation is read in place. Sums are in double precision.
 */
final class CpuWindowKernels {
    /** Below this many (sample, position) pairs one thread does the work. */
    private static final int MIN_TASKS = 64;

    private final CpuParallel parallel;

    CpuWindowKernels(CpuParallel parallel) {
        this.parallel = parallel;
    }

    /**
     * Where channel c of (sample n, position s) lives in a [N, C, ...] tensor: base(n, s) + c·stride.
     * Row-major puts the channels a plane apart; channels-last (rank 4 only) puts them side by side.
     */
    private record ChannelIndex(int batch, int channels, int positions, boolean channelsLast) {
        static ChannelIndex of(Tensor t) {
            int positions = (int) (t.elementCount() / Math.max(1L, (long) t.shape().dim(0) * t.shape().dim(1)));
            return new ChannelIndex(t.shape().dim(0), t.shape().dim(1), positions, t.layout() == Layout.CHANNELS_LAST);
        }

        long base(int n, int s) {
            return channelsLast ? ((long) n * positions + s) * channels : (long) n * channels * positions + s;
        }

        long stride() {
            return channelsLast ? 1 : positions;
        }

        int tasks() {
            return batch * positions;
        }
    }

    /**
     * Per-thread rows of doubles for one (sample, position)'s channels, kept between calls so that
     * a training step allocates nothing once every pool thread has met the widest layer.
     */
    private final ThreadLocal<double[]> rows = ThreadLocal.withInitial(() -> new double[0]);

    private double[] row(int length) {
        double[] row = rows.get();
        if (row.length < length) {
            row = new double[length];
            rows.set(row);
        }
        return row;
    }

    /**
     * d^−β. AlexNet's β = 0.75 (and 0.5, 1) are square roots and a division, several times faster
     * than {@link Math#pow}, which would otherwise dominate the layer.
     */
    static double inversePower(double d, double beta) {
        if (beta == 0.75) {
            double root = Math.sqrt(d);
            return 1 / (root * Math.sqrt(root));
        }
        if (beta == 0.5) {
            return 1 / Math.sqrt(d);
        }
        if (beta == 1) {
            return 1 / d;
        }
        return Math.pow(d, -beta);
    }

    /**
     * d[c] = k + alpha/size · Σ x[j]² over PyTorch's window of channel c, c − size/2 .. c + (size − 1)/2
     * clipped to [0, C), for every c, into {@code d[0, C)}: one sliding sum over the channels.
     */
    private static void divisors(MemorySegment x, long base, long stride, int channels, int size, double k, double scale,
                                 double[] d) {
        int below = size / 2;
        int above = (size - 1) / 2;
        double sum = 0;
        for (int j = 0; j < Math.min(channels, above); j++) {
            double v = x.getAtIndex(JAVA_FLOAT, base + j * stride);
            sum += v * v;
        }
        for (int c = 0; c < channels; c++) {
            int entering = c + above;
            if (entering < channels) {
                double v = x.getAtIndex(JAVA_FLOAT, base + entering * stride);
                sum += v * v;
            }
            int leaving = c - below - 1;
            if (leaving >= 0) {
                double v = x.getAtIndex(JAVA_FLOAT, base + leaving * stride);
                sum -= v * v;
            }
            if (!Double.isFinite(sum)) {
                // An infinity or NaN spoils a running sum for good (∞ − ∞); PyTorch's spoils only its windows.
                sum = 0;
                for (int j = Math.max(0, c - below); j <= Math.min(channels - 1, c + above); j++) {
                    double v = x.getAtIndex(JAVA_FLOAT, base + j * stride);
                    sum += v * v;
                }
            }
            d[c] = k + scale * Math.max(sum, 0);
        }
    }

    void lrnForward(int size, float alpha, float beta, float k, Tensor x, Tensor y) {
        ChannelIndex index = ChannelIndex.of(x);
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        long stride = index.stride();
        int channels = index.channels();
        double scale = (double) alpha / size;
        parallel.forRange(index.tasks(), MIN_TASKS, (from, to) -> {
            double[] d = row(channels);
            for (int task = from; task < to; task++) {
                long base = index.base(task / index.positions(), task % index.positions());
                divisors(in, base, stride, channels, size, k, scale, d);
                for (int c = 0; c < channels; c++) {
                    long at = base + c * stride;
                    out.setAtIndex(JAVA_FLOAT, at, (float) (in.getAtIndex(JAVA_FLOAT, at) * inversePower(d[c], beta)));
                }
            }
        });
    }

    /**
     * dx[i] = dy[i]·d[i]^−β − (2αβ/size)·x[i]·Σ t[c], t[c] = dy[c]·x[c]·d[c]^(−β−1), over the channels c
     * whose window holds i (c from i − (size − 1)/2 to i + size/2): d and t in a per-thread row, the
     * sum of t sliding over the channels.
     */
    void lrnBackward(int size, float alpha, float beta, float k, Tensor x, Tensor gradOutput, Tensor gradInput) {
        ChannelIndex index = ChannelIndex.of(x);
        MemorySegment in = x.memory();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        long stride = index.stride();
        int channels = index.channels();
        double scale = (double) alpha / size;
        double cross = 2.0 * alpha * beta / size;
        int below = (size - 1) / 2;
        int above = size / 2;
        parallel.forRange(index.tasks(), MIN_TASKS, (from, to) -> {
            double[] rowsOf = row(3 * channels);
            for (int task = from; task < to; task++) {
                long base = index.base(task / index.positions(), task % index.positions());
                divisors(in, base, stride, channels, size, k, scale, rowsOf);
                for (int c = 0; c < channels; c++) {
                    long at = base + c * stride;
                    double power = inversePower(rowsOf[c], beta);
                    rowsOf[channels + c] = power;
                    rowsOf[2 * channels + c] = dy.getAtIndex(JAVA_FLOAT, at) * (double) in.getAtIndex(JAVA_FLOAT, at)
                            * power / rowsOf[c];
                }
                double sum = 0;
                for (int c = 0; c < Math.min(channels, above); c++) {
                    sum += rowsOf[2 * channels + c];
                }
                for (int i = 0; i < channels; i++) {
                    int entering = i + above;
                    if (entering < channels) {
                        sum += rowsOf[2 * channels + entering];
                    }
                    int leaving = i - below - 1;
                    if (leaving >= 0) {
                        sum -= rowsOf[2 * channels + leaving];
                    }
                    if (!Double.isFinite(sum)) {
                        sum = 0;
                        for (int c = Math.max(0, i - below); c <= Math.min(channels - 1, i + above); c++) {
                            sum += rowsOf[2 * channels + c];
                        }
                    }
                    long at = base + i * stride;
                    double g = dy.getAtIndex(JAVA_FLOAT, at) * rowsOf[channels + i] - cross * in.getAtIndex(JAVA_FLOAT, at) * sum;
                    dx.setAtIndex(JAVA_FLOAT, at, (float) g);
                }
            }
        });
    }

    /** The index j in [0, pieces) of group g's first maximum; NaN wins, as in torch.max. */
    private static int argmax(MemorySegment x, long base, long stride, int g, int pieces) {
        int best = 0;
        float bestValue = x.getAtIndex(JAVA_FLOAT, base + (long) g * pieces * stride);
        for (int j = 1; j < pieces && !Float.isNaN(bestValue); j++) {
            float v = x.getAtIndex(JAVA_FLOAT, base + ((long) g * pieces + j) * stride);
            if (v > bestValue || Float.isNaN(v)) {
                best = j;
                bestValue = v;
            }
        }
        return best;
    }

    void maxoutForward(int pieces, Tensor x, Tensor y) {
        ChannelIndex in = ChannelIndex.of(x);
        ChannelIndex out = ChannelIndex.of(y);
        MemorySegment xs = x.memory();
        MemorySegment ys = y.memory();
        int groups = out.channels();
        parallel.forRange(in.tasks(), MIN_TASKS, (from, to) -> {
            for (int task = from; task < to; task++) {
                int n = task / in.positions();
                int s = task % in.positions();
                long inBase = in.base(n, s);
                long outBase = out.base(n, s);
                for (int g = 0; g < groups; g++) {
                    int j = argmax(xs, inBase, in.stride(), g, pieces);
                    ys.setAtIndex(JAVA_FLOAT, outBase + g * out.stride(),
                            xs.getAtIndex(JAVA_FLOAT, inBase + ((long) g * pieces + j) * in.stride()));
                }
            }
        });
    }

    void maxoutBackward(int pieces, Tensor x, Tensor gradOutput, Tensor gradInput) {
        ChannelIndex in = ChannelIndex.of(x);
        ChannelIndex out = ChannelIndex.of(gradOutput);
        MemorySegment xs = x.memory();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        int groups = out.channels();
        parallel.forRange(in.tasks(), MIN_TASKS, (from, to) -> {
            for (int task = from; task < to; task++) {
                int n = task / in.positions();
                int s = task % in.positions();
                long inBase = in.base(n, s);
                long outBase = out.base(n, s);
                for (int g = 0; g < groups; g++) {
                    int winner = argmax(xs, inBase, in.stride(), g, pieces);
                    float g0 = dy.getAtIndex(JAVA_FLOAT, outBase + g * out.stride());
                    for (int j = 0; j < pieces; j++) {
                        dx.setAtIndex(JAVA_FLOAT, inBase + ((long) g * pieces + j) * in.stride(), j == winner ? g0 : 0f);
                    }
                }
            }
        });
    }

    /** PyTorch's first row (or column) of adaptive window i of {@code outSize} over {@code inSize}. */
    static int windowStart(int i, int inSize, int outSize) {
        return (int) ((long) i * inSize / outSize);
    }

    /** One past the last row (or column) of adaptive window i: ceil((i + 1)·in / out). */
    static int windowEnd(int i, int inSize, int outSize) {
        return (int) (((long) (i + 1) * inSize + outSize - 1) / outSize);
    }

    void adaptiveAvgPoolForward(Tensor x, Tensor y) {
        int batch = x.shape().dim(0);
        int channels = x.shape().dim(1);
        int height = x.shape().dim(2);
        int width = x.shape().dim(3);
        int outHeight = y.shape().dim(2);
        int outWidth = y.shape().dim(3);
        Layout layout = x.layout();
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        // One task per (sample, channel) plane: planes are independent, windows within one may overlap.
        parallel.forRange(batch * channels, 1, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int n = plane / channels;
                int c = plane % channels;
                for (int i = 0; i < outHeight; i++) {
                    int h0 = windowStart(i, height, outHeight);
                    int h1 = windowEnd(i, height, outHeight);
                    for (int j = 0; j < outWidth; j++) {
                        int w0 = windowStart(j, width, outWidth);
                        int w1 = windowEnd(j, width, outWidth);
                        double sum = 0;
                        for (int h = h0; h < h1; h++) {
                            for (int w = w0; w < w1; w++) {
                                sum += in.getAtIndex(JAVA_FLOAT, layout.offset(channels, height, width, n, c, h, w));
                            }
                        }
                        out.setAtIndex(JAVA_FLOAT, layout.offset(channels, outHeight, outWidth, n, c, i, j),
                                (float) (sum / ((h1 - h0) * (w1 - w0))));
                    }
                }
            }
        });
    }

    void adaptiveAvgPoolBackward(Tensor gradOutput, Tensor gradInput) {
        int batch = gradInput.shape().dim(0);
        int channels = gradInput.shape().dim(1);
        int height = gradInput.shape().dim(2);
        int width = gradInput.shape().dim(3);
        int outHeight = gradOutput.shape().dim(2);
        int outWidth = gradOutput.shape().dim(3);
        Layout layout = gradInput.layout();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        parallel.forRange(batch * channels, 1, (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                int n = plane / channels;
                int c = plane % channels;
                for (int h = 0; h < height; h++) {
                    for (int w = 0; w < width; w++) {
                        dx.setAtIndex(JAVA_FLOAT, layout.offset(channels, height, width, n, c, h, w), 0f);
                    }
                }
                for (int i = 0; i < outHeight; i++) {
                    int h0 = windowStart(i, height, outHeight);
                    int h1 = windowEnd(i, height, outHeight);
                    for (int j = 0; j < outWidth; j++) {
                        int w0 = windowStart(j, width, outWidth);
                        int w1 = windowEnd(j, width, outWidth);
                        float share = dy.getAtIndex(JAVA_FLOAT, layout.offset(channels, outHeight, outWidth, n, c, i, j))
                                / ((h1 - h0) * (w1 - w0));
                        for (int h = h0; h < h1; h++) {
                            for (int w = w0; w < w1; w++) {
                                long at = layout.offset(channels, height, width, n, c, h, w);
                                dx.setAtIndex(JAVA_FLOAT, at, dx.getAtIndex(JAVA_FLOAT, at) + share);
                            }
                        }
                    }
                }
            }
        });
    }
}
