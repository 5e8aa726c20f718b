package dev.isthmus.device.cpu;

import dev.isthmus.device.Activation;
import dev.isthmus.device.CounterRng;
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
        parallel.forRange(outer * channels, grain(inner), (from, to) -> {
            for (int row = from; row < to; row++) {
                float value = b.getAtIndex(JAVA_FLOAT, row % channels);
                long base = (long) row * inner;
                for (int i = 0; i < inner; i++) {
                    out.setAtIndex(JAVA_FLOAT, base + i, out.getAtIndex(JAVA_FLOAT, base + i) + value);
                }
            }
        });
    }

    void biasGradient(Tensor gradOutput, Tensor biasGrad) {
        MemorySegment dy = gradOutput.memory();
        MemorySegment db = biasGrad.memory();
        int outer = gradOutput.shape().dim(0);
        int channels = gradOutput.shape().dim(1);
        int inner = innerSize(gradOutput);
        parallel.forRange(channels, Math.max(1, CpuDevice.MIN_PARALLEL_ELEMENTS / Math.max(1, outer * inner)),
                (from, to) -> {
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
                });
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
