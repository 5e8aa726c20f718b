package dev.isthmus.device.cpu;

import dev.isthmus.device.OptimizerKernels;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The optimizer update rules of torch.optim, element by element (see Device for each formula).
 * Each rule is a static range kernel; a parameter too small to split runs it directly, so the
 * common case creates no lambda and a training step allocates nothing here.
 *
 * <p>A range is worked through in chunks copied into per-thread float arrays and back: C2 compiles
 * plain array loops to vector code every time, while its code for a long loop over memory
 * segments varies from one run to the next by a factor of four (a fused step over a model's whole
 * parameter block is one long loop). Copies cost less than the difference; the arithmetic, and so
 * every result, is the same.
 */
final class CpuOptimizers implements OptimizerKernels.Backend {
    /** Elements per chunk: four arrays of them stay in the first-level cache. */
    private static final int CHUNK = 2048;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][CHUNK]);

    private final CpuParallel parallel;

    CpuOptimizers(CpuParallel parallel) {
        this.parallel = parallel;
    }

    private boolean split(Tensor param) {
        return parallel.worthSplitting((int) param.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS);
    }

    private static void load(MemorySegment from, long element, float[] into, int count) {
        if (from != null) {
            MemorySegment.copy(from, JAVA_FLOAT, element * Float.BYTES, into, 0, count);
        }
    }

    private static void store(float[] from, MemorySegment into, long element, int count) {
        if (into != null) {
            MemorySegment.copy(from, 0, into, JAVA_FLOAT, element * Float.BYTES, count);
        }
    }

    @Override
    public void sgd(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
             float weightDecay, boolean nesterov, boolean firstStep) {
        MemorySegment p = param.memory();
        MemorySegment g = grad.memory();
        MemorySegment buf = momentumBuffer == null ? null : momentumBuffer.memory();
        int count = (int) param.elementCount();
        if (!split(param)) {
            sgd(0, count, p, g, buf, lr, momentum, dampening, weightDecay, nesterov, firstStep);
            return;
        }
        parallel.forRange(count, CpuDevice.MIN_PARALLEL_ELEMENTS,
                (from, to) -> sgd(from, to, p, g, buf, lr, momentum, dampening, weightDecay, nesterov, firstStep));
    }

    private static void sgd(int from, int to, MemorySegment p, MemorySegment g, MemorySegment buf, float lr, float momentum,
                            float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        float[][] scratch = SCRATCH.get();
        float[] ps = scratch[0];
        float[] gs = scratch[1];
        float[] bs = scratch[2];
        for (int start = from; start < to; start += CHUNK) {
            int n = Math.min(CHUNK, to - start);
            load(p, start, ps, n);
            load(g, start, gs, n);
            if (buf == null) {
                for (int i = 0; i < n; i++) {
                    ps[i] = ps[i] - lr * (gs[i] + weightDecay * ps[i]);
                }
            } else {
                load(buf, start, bs, n);
                sgdWithMomentum(n, ps, gs, bs, lr, momentum, dampening, weightDecay, nesterov, firstStep);
                store(bs, buf, start, n);
            }
            store(ps, p, start, n);
        }
    }

    private static void sgdWithMomentum(int n, float[] p, float[] g, float[] buf, float lr, float momentum, float dampening,
                                        float weightDecay, boolean nesterov, boolean firstStep) {
        for (int i = 0; i < n; i++) {
            float pi = p[i];
            float d = g[i] + weightDecay * pi;
            float b = firstStep ? d : momentum * buf[i] + (1 - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
            p[i] = pi - lr * d;
        }
    }

    @Override
    public void adam(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1, float beta2,
              float eps, float weightDecay, boolean decoupled, int step) {
        MemorySegment p = param.memory();
        MemorySegment g = grad.memory();
        MemorySegment m = expAvg.memory();
        MemorySegment v = expAvgSq.memory();
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = (float) (lr / biasCorrection1);
        float decay = decoupled ? 1 - lr * weightDecay : 1;
        float coupledDecay = decoupled ? 0 : weightDecay;
        int count = (int) param.elementCount();
        if (!split(param)) {
            adam(0, count, p, g, m, v, beta1, beta2, eps, biasCorrection2Sqrt, stepSize, decay, coupledDecay);
            return;
        }
        parallel.forRange(count, CpuDevice.MIN_PARALLEL_ELEMENTS,
                (from, to) -> adam(from, to, p, g, m, v, beta1, beta2, eps, biasCorrection2Sqrt, stepSize, decay, coupledDecay));
    }

    private static void adam(int from, int to, MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, float beta1,
                             float beta2, float eps, float biasCorrection2Sqrt, float stepSize, float decay, float coupledDecay) {
        float[][] scratch = SCRATCH.get();
        float[] ps = scratch[0];
        float[] gs = scratch[1];
        float[] ms = scratch[2];
        float[] vs = scratch[3];
        for (int start = from; start < to; start += CHUNK) {
            int n = Math.min(CHUNK, to - start);
            load(p, start, ps, n);
            load(g, start, gs, n);
            load(m, start, ms, n);
            load(v, start, vs, n);
            for (int i = 0; i < n; i++) {
                float pi = ps[i] * decay;
                float gi = gs[i] + coupledDecay * pi;
                float mi = beta1 * ms[i] + (1 - beta1) * gi;
                float vi = beta2 * vs[i] + (1 - beta2) * gi * gi;
                ms[i] = mi;
                vs[i] = vi;
                float denominator = (float) Math.sqrt(vi) / biasCorrection2Sqrt + eps;
                ps[i] = pi - stepSize * mi / denominator;
            }
            store(ms, m, start, n);
            store(vs, v, start, n);
            store(ps, p, start, n);
        }
    }

    @Override
    public void rmsprop(Tensor param, Tensor grad, Tensor squareAvg, Tensor gradAvg, Tensor momentumBuffer, float lr,
                 float alpha, float eps, float weightDecay, float momentum) {
        MemorySegment p = param.memory();
        MemorySegment g = grad.memory();
        MemorySegment sq = squareAvg.memory();
        MemorySegment ga = gradAvg == null ? null : gradAvg.memory();
        MemorySegment buf = momentumBuffer == null ? null : momentumBuffer.memory();
        int count = (int) param.elementCount();
        if (!split(param)) {
            rmsprop(0, count, p, g, sq, ga, buf, lr, alpha, eps, weightDecay, momentum);
            return;
        }
        parallel.forRange(count, CpuDevice.MIN_PARALLEL_ELEMENTS,
                (from, to) -> rmsprop(from, to, p, g, sq, ga, buf, lr, alpha, eps, weightDecay, momentum));
    }

    private static void rmsprop(int from, int to, MemorySegment p, MemorySegment g, MemorySegment sq, MemorySegment ga,
                                MemorySegment buf, float lr, float alpha, float eps, float weightDecay, float momentum) {
        // Rarely used: element by element, without the chunked copies.
        for (int i = from; i < to; i++) {
            float pi = p.getAtIndex(JAVA_FLOAT, i);
            float gi = g.getAtIndex(JAVA_FLOAT, i) + weightDecay * pi;
            float s = alpha * sq.getAtIndex(JAVA_FLOAT, i) + (1 - alpha) * gi * gi;
            sq.setAtIndex(JAVA_FLOAT, i, s);
            float average;
            if (ga != null) {
                float a = alpha * ga.getAtIndex(JAVA_FLOAT, i) + (1 - alpha) * gi;
                ga.setAtIndex(JAVA_FLOAT, i, a);
                average = (float) Math.sqrt(s - a * a) + eps;
            } else {
                average = (float) Math.sqrt(s) + eps;
            }
            if (buf != null) {
                float b = momentum * buf.getAtIndex(JAVA_FLOAT, i) + gi / average;
                buf.setAtIndex(JAVA_FLOAT, i, b);
                p.setAtIndex(JAVA_FLOAT, i, pi - lr * b);
            } else {
                p.setAtIndex(JAVA_FLOAT, i, pi - lr * gi / average);
            }
        }
    }

    @Override
    public void adagrad(Tensor param, Tensor grad, Tensor sum, float clr, float eps, float weightDecay) {
        MemorySegment p = param.memory();
        MemorySegment g = grad.memory();
        MemorySegment s = sum.memory();
        int count = (int) param.elementCount();
        if (!split(param)) {
            adagrad(0, count, p, g, s, clr, eps, weightDecay);
            return;
        }
        parallel.forRange(count, CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> adagrad(from, to, p, g, s, clr, eps, weightDecay));
    }

    private static void adagrad(int from, int to, MemorySegment p, MemorySegment g, MemorySegment s, float clr, float eps,
                                float weightDecay) {
        // Rarely used: element by element, without the chunked copies.
        for (int i = from; i < to; i++) {
            float pi = p.getAtIndex(JAVA_FLOAT, i);
            float gi = g.getAtIndex(JAVA_FLOAT, i) + weightDecay * pi;
            float si = s.getAtIndex(JAVA_FLOAT, i) + gi * gi;
            s.setAtIndex(JAVA_FLOAT, i, si);
            p.setAtIndex(JAVA_FLOAT, i, pi - clr * gi / ((float) Math.sqrt(si) + eps));
        }
    }

    @Override
    public void l1Penalty(Tensor param, Tensor grad, float l1) {
        MemorySegment p = param.memory();
        MemorySegment g = grad.memory();
        int count = (int) param.elementCount();
        if (!split(param)) {
            l1Penalty(0, count, p, g, l1);
            return;
        }
        parallel.forRange(count, CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> l1Penalty(from, to, p, g, l1));
    }

    private static void l1Penalty(int from, int to, MemorySegment p, MemorySegment g, float l1) {
        for (int i = from; i < to; i++) {
            float pi = p.getAtIndex(JAVA_FLOAT, i);
            g.setAtIndex(JAVA_FLOAT, i, g.getAtIndex(JAVA_FLOAT, i) + l1 * Math.signum(pi));
        }
    }
}
