package dev.isthmus.device.cpu;

import dev.isthmus.device.OptimizerKernels;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The optimizer update rules of torch.optim, element by element (see Device for each formula).
 * Each rule is a static range kernel; a parameter too small to split runs it directly, so the
 * common case creates no lambda and a training step allocates nothing here.
 */
final class CpuOptimizers implements OptimizerKernels.Backend {
    private final CpuParallel parallel;

    CpuOptimizers(CpuParallel parallel) {
        this.parallel = parallel;
    }

    private boolean split(Tensor param) {
        return parallel.worthSplitting((int) param.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS);
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
        for (int i = from; i < to; i++) {
            float pi = p.getAtIndex(JAVA_FLOAT, i);
            float d = g.getAtIndex(JAVA_FLOAT, i) + weightDecay * pi;
            if (buf != null) {
                float b = firstStep ? d : momentum * buf.getAtIndex(JAVA_FLOAT, i) + (1 - dampening) * d;
                buf.setAtIndex(JAVA_FLOAT, i, b);
                d = nesterov ? d + momentum * b : b;
            }
            p.setAtIndex(JAVA_FLOAT, i, pi - lr * d);
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
        for (int i = from; i < to; i++) {
            float pi = p.getAtIndex(JAVA_FLOAT, i) * decay;
            float gi = g.getAtIndex(JAVA_FLOAT, i) + coupledDecay * pi;
            float mi = beta1 * m.getAtIndex(JAVA_FLOAT, i) + (1 - beta1) * gi;
            float vi = beta2 * v.getAtIndex(JAVA_FLOAT, i) + (1 - beta2) * gi * gi;
            m.setAtIndex(JAVA_FLOAT, i, mi);
            v.setAtIndex(JAVA_FLOAT, i, vi);
            float denominator = (float) Math.sqrt(vi) / biasCorrection2Sqrt + eps;
            p.setAtIndex(JAVA_FLOAT, i, pi - stepSize * mi / denominator);
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
        for (int i = from; i < to; i++) {
            float pi = p.getAtIndex(JAVA_FLOAT, i);
            float gi = g.getAtIndex(JAVA_FLOAT, i) + weightDecay * pi;
            float si = s.getAtIndex(JAVA_FLOAT, i) + gi * gi;
            s.setAtIndex(JAVA_FLOAT, i, si);
            p.setAtIndex(JAVA_FLOAT, i, pi - clr * gi / ((float) Math.sqrt(si) + eps));
        }
    }
}
