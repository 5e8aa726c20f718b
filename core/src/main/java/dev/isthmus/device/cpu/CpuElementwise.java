package dev.isthmus.device.cpu;

import dev.isthmus.device.Activation;
import dev.isthmus.random.CounterRng;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** The CPU's element-wise kernels: bias, activations, dropout and the host-read reductions. */
final class CpuElementwise {
    private static final double INV_SQRT_2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    private final CpuParallel parallel;

    CpuElementwise(CpuParallel parallel) {
        this.parallel = parallel;
    }

    void addBias(Tensor y, Tensor bias) {
        MemorySegment out = y.memory();
        MemorySegment b = bias.memory();
        int outer = y.shape().dim(0);
        int channels = y.shape().dim(1);
        int inner = innerSize(y);
        boolean channelsLast = y.layout() == Layout.CHANNELS_LAST;
        int rows = channelsLast ? outer * inner : outer * channels;
        int rowLength = channelsLast ? channels : inner;
        if (!parallel.worthSplitting(rows, grain(rowLength))) {
            addBias(0, rows, out, b, channels, rowLength, channelsLast);
            return;
        }
        parallel.forRange(rows, grain(rowLength), (from, to) -> addBias(from, to, out, b, channels, rowLength, channelsLast));
    }

    /**
     * Row-major rows are one channel's plane (one bias value each); channels-last rows are one
     * position's channels (the whole bias vector).
     */
    private static void addBias(int from, int to, MemorySegment out, MemorySegment b, int channels, int rowLength,
                                boolean channelsLast) {
        for (int row = from; row < to; row++) {
            long base = (long) row * rowLength;
            if (channelsLast) {
                for (int c = 0; c < channels; c++) {
                    out.setAtIndex(JAVA_FLOAT, base + c, out.getAtIndex(JAVA_FLOAT, base + c) + b.getAtIndex(JAVA_FLOAT, c));
                }
            } else {
                float value = b.getAtIndex(JAVA_FLOAT, row % channels);
                for (int i = 0; i < rowLength; i++) {
                    out.setAtIndex(JAVA_FLOAT, base + i, out.getAtIndex(JAVA_FLOAT, base + i) + value);
                }
            }
        }
    }

    void biasGradient(Tensor gradOutput, Tensor biasGrad) {
        MemorySegment dy = gradOutput.memory();
        MemorySegment db = biasGrad.memory();
        int outer = gradOutput.shape().dim(0);
        int channels = gradOutput.shape().dim(1);
        int inner = innerSize(gradOutput);
        if (gradOutput.layout() == Layout.CHANNELS_LAST) {
            channelsLastBiasGradient(dy, db, outer * inner, channels);
            return;
        }
        int grain = Math.max(1, CpuDevice.MIN_PARALLEL_ELEMENTS / Math.max(1, outer * inner));
        if (!parallel.worthSplitting(channels, grain)) {
            biasGradient(0, channels, dy, db, outer, channels, inner);
            return;
        }
        parallel.forRange(channels, grain, (from, to) -> biasGradient(from, to, dy, db, outer, channels, inner));
    }

    private static void biasGradient(int from, int to, MemorySegment dy, MemorySegment db, int outer, int channels, int inner) {
        for (int c = from; c < to; c++) {
            double sum = 0;
            for (int n = 0; n < outer; n++) {
                long base = ((long) n * channels + c) * inner;
                for (int i = 0; i < inner; i++) {
                    sum += dy.getAtIndex(JAVA_FLOAT, base + i);
                }
            }
            db.setAtIndex(JAVA_FLOAT, c, (float) (db.getAtIndex(JAVA_FLOAT, c) + sum));
        }
    }

    /** Per-chunk partial sums (one row per thread), kept between calls so a step allocates nothing. */
    private double[][] partialSums = new double[0][];

    /** Σ over positions of channels-last rows: each thread sums its run of positions, then the rows are added in order. */
    private void channelsLastBiasGradient(MemorySegment dy, MemorySegment db, int positions, int channels) {
        int threads = parallel.threads();
        if (partialSums.length < threads || partialSums[0].length < channels) {
            partialSums = new double[threads][channels];
        }
        double[][] sums = partialSums;
        int chunk = (positions + threads - 1) / threads;
        if ((long) positions * channels < CpuDevice.MIN_PARALLEL_ELEMENTS) {
            for (int t = 0; t < threads; t++) {
                sumPositions(t, chunk, positions, channels, dy, sums[t]);
            }
        } else {
            parallel.forRange(threads, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    sumPositions(t, chunk, positions, channels, dy, sums[t]);
                }
            });
        }
        for (int c = 0; c < channels; c++) {
            double total = 0;
            for (int t = 0; t < threads; t++) {
                total += sums[t][c];
            }
            db.setAtIndex(JAVA_FLOAT, c, (float) (db.getAtIndex(JAVA_FLOAT, c) + total));
        }
    }

    /** Thread t's share of the channels-last bias gradient: positions [t·chunk, (t+1)·chunk). */
    private static void sumPositions(int t, int chunk, int positions, int channels, MemorySegment dy, double[] row) {
        java.util.Arrays.fill(row, 0, channels, 0);
        int end = Math.min(positions, (t + 1) * chunk);
        for (int position = t * chunk; position < end; position++) {
            long base = (long) position * channels;
            for (int c = 0; c < channels; c++) {
                row[c] += dy.getAtIndex(JAVA_FLOAT, base + c);
            }
        }
    }

    void activationForward(Activation function, float alpha, Tensor x, Tensor y) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        parallel.forRange((int) x.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            switch (function) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        float v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : 0f);
                    }
                }
                case LEAKY_RELU -> {
                    for (int i = from; i < to; i++) {
                        float v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : alpha * v);
                    }
                }
                case ELU -> {
                    for (int i = from; i < to; i++) {
                        float v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : (float) (alpha * Math.expm1(v)));
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        out.setAtIndex(JAVA_FLOAT, i, sigmoid(in.getAtIndex(JAVA_FLOAT, i)));
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        out.setAtIndex(JAVA_FLOAT, i, (float) Math.tanh(in.getAtIndex(JAVA_FLOAT, i)));
                    }
                }
                case GELU -> {
                    for (int i = from; i < to; i++) {
                        double v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, (float) (0.5 * v * (1 + Erf.erf(v * INV_SQRT_2))));
                    }
                }
            }
        });
    }

    void activationBackward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        parallel.forRange((int) x.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            switch (function) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        float g = dy.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? g : 0f);
                    }
                }
                case LEAKY_RELU -> {
                    for (int i = from; i < to; i++) {
                        float g = dy.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? g : alpha * g);
                    }
                }
                case ELU -> {
                    // For x <= 0, d/dx alpha(e^x - 1) = alpha e^x = y + alpha.
                    for (int i = from; i < to; i++) {
                        float g = dy.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? g
                                : g * (out.getAtIndex(JAVA_FLOAT, i) + alpha));
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        float s = out.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, dy.getAtIndex(JAVA_FLOAT, i) * s * (1 - s));
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        float t = out.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, dy.getAtIndex(JAVA_FLOAT, i) * (1 - t * t));
                    }
                }
                case GELU -> {
                    for (int i = from; i < to; i++) {
                        double v = in.getAtIndex(JAVA_FLOAT, i);
                        double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT_2));
                        double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
                        dx.setAtIndex(JAVA_FLOAT, i, (float) (dy.getAtIndex(JAVA_FLOAT, i) * (cdf + v * pdf)));
                    }
                }
            }
        });
    }

    static float sigmoid(float v) {
        // Written so that neither branch overflows: exp of a non-positive number only.
        if (v >= 0) {
            return (float) (1 / (1 + Math.exp(-v)));
        }
        double e = Math.exp(v);
        return (float) (e / (1 + e));
    }

    void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment keep = mask.memory();
        float scale = 1f / (1f - p);
        parallel.forRange((int) x.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                float m = CounterRng.uniform(seed, counter, i) >= p ? scale : 0f;
                keep.setAtIndex(JAVA_FLOAT, i, m);
                out.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) * m);
            }
        });
    }

    double sumOfSquares(Tensor x) {
        MemorySegment in = x.memory();
        long count = x.elementCount();
        double sum = 0;
        for (long i = 0; i < count; i++) {
            double v = in.getAtIndex(JAVA_FLOAT, i);
            sum += v * v;
        }
        return sum;
    }

    long countNonFinite(Tensor x) {
        MemorySegment in = x.memory();
        long count = x.elementCount();
        long bad = 0;
        for (long i = 0; i < count; i++) {
            if (!Float.isFinite(in.getAtIndex(JAVA_FLOAT, i))) {
                bad++;
            }
        }
        return bad;
    }

    /** The product of the dimensions after [N, C]. */
    static int innerSize(Tensor t) {
        int inner = 1;
        for (int axis = 2; axis < t.shape().rank(); axis++) {
            inner *= t.shape().dim(axis);
        }
        return inner;
    }

    private static int grain(int inner) {
        return Math.max(1, CpuDevice.MIN_PARALLEL_ELEMENTS / Math.max(1, inner));
    }
}
