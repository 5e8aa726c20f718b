package dev.isthmus.device.cpu;

import dev.isthmus.device.LossKernels;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The CPU's loss family: softmax cross-entropy, and the element-wise losses averaged over every
 * element, with their gradients.
 */
final class CpuLosses implements LossKernels.Backend {
    private final CpuSoftmax softmax;
    private final CpuScratch scratch;

    CpuLosses(CpuSoftmax softmax, CpuScratch scratch) {
        this.softmax = softmax;
        this.scratch = scratch;
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss, Tensor gradLogits) {
        softmax.crossEntropy(logits, labels, labelSmoothing, loss, gradLogits);
    }

    @Override
    public void pointwise(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss, Tensor gradInput) {
        Tensor gradient = gradInput == null || gradInput.layout() == input.layout() ? gradInput
                : scratch.get(CpuScratch.Slot.RESULT, gradInput.shape(), DType.F32, input.layout());
        pointwiseLoop(kind, beta, input, scratch.inLayout(target, input.layout(), CpuScratch.Slot.FIRST_INPUT), loss, gradient);
        if (gradient != null) {
            scratch.store(gradient, gradInput);
        }
    }

    @Override
    public void spatialCrossEntropy(Tensor logits, Tensor labels, int ignoreIndex, Tensor loss, Tensor gradLogits) {
        // The loop indexes [N, C, inner] row-major; a channels-last network output is converted first.
        Tensor x = scratch.inLayout(logits, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor gradient = gradLogits == null ? null : scratch.rowMajorResult(gradLogits);
        spatialCrossEntropyLoop(x, labels, ignoreIndex, loss, gradient);
        if (gradient != null) {
            scratch.store(gradient, gradLogits);
        }
    }

    private static void spatialCrossEntropyLoop(Tensor logits, Tensor labels, int ignoreIndex, Tensor loss,
                                                Tensor gradLogits) {
        MemorySegment in = logits.memory();
        MemorySegment target = labels.memory();
        MemorySegment grad = gradLogits == null ? null : gradLogits.memory();
        int batch = logits.shape().dim(0);
        int classes = logits.shape().dim(1);
        long inner = logits.elementCount() / ((long) batch * classes);
        long positions = labels.elementCount();
        long counted = 0;
        for (long p = 0; p < positions; p++) {
            int label = target.getAtIndex(JAVA_INT, p);
            if (label == ignoreIndex) {
                continue;
            }
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("spatial cross-entropy: label " + label + " at position " + p
                        + " is outside [0, " + classes + ") and is not the ignore index " + ignoreIndex);
            }
            counted++;
        }
        // PyTorch's mean over the counted positions: 0/0 is NaN when every label is ignored.
        double scale = 1.0 / counted;
        double total = 0;
        for (long p = 0; p < positions; p++) {
            long n = p / inner;
            long base = n * classes * inner + p % inner;
            int label = target.getAtIndex(JAVA_INT, p);
            if (label == ignoreIndex) {
                if (grad != null) {
                    for (int c = 0; c < classes; c++) {
                        grad.setAtIndex(JAVA_FLOAT, base + c * inner, 0f);
                    }
                }
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, in.getAtIndex(JAVA_FLOAT, base + c * inner));
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(in.getAtIndex(JAVA_FLOAT, base + c * inner) - max);
            }
            double logSum = Math.log(sum) + max;
            total += logSum - in.getAtIndex(JAVA_FLOAT, base + label * inner);
            if (grad != null) {
                for (int c = 0; c < classes; c++) {
                    double probability = Math.exp(in.getAtIndex(JAVA_FLOAT, base + c * inner) - logSum);
                    grad.setAtIndex(JAVA_FLOAT, base + c * inner, (float) ((probability - (c == label ? 1 : 0)) * scale));
                }
            }
        }
        loss.memory().setAtIndex(JAVA_FLOAT, 0, (float) (total * scale));
    }

    private static void pointwiseLoop(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss,
                                      Tensor gradInput) {
        MemorySegment x = input.memory();
        MemorySegment y = target.memory();
        MemorySegment grad = gradInput == null ? null : gradInput.memory();
        long count = input.elementCount();
        double scale = 1.0 / count;
        double total = 0;
        for (long i = 0; i < count; i++) {
            double xi = x.getAtIndex(JAVA_FLOAT, i);
            double yi = y.getAtIndex(JAVA_FLOAT, i);
            double d = xi - yi;
            double value;
            double derivative;
            switch (kind) {
                case MSE -> {
                    value = d * d;
                    derivative = 2 * d;
                }
                case L1 -> {
                    value = Math.abs(d);
                    derivative = Math.signum(d);
                }
                case SMOOTH_L1 -> {
                    if (Math.abs(d) < beta) {
                        value = 0.5 * d * d / beta;
                        derivative = d / beta;
                    } else {
                        value = Math.abs(d) - 0.5 * beta;
                        derivative = Math.signum(d);
                    }
                }
                case BCE_WITH_LOGITS -> {
                    value = Math.max(xi, 0) - xi * yi + Math.log1p(Math.exp(-Math.abs(xi)));
                    derivative = CpuActivations.sigmoid((float) xi) - yi;
                }
                default -> throw new IllegalArgumentException("unknown loss " + kind);
            }
            total += value;
            if (grad != null) {
                grad.setAtIndex(JAVA_FLOAT, i, (float) (derivative * scale));
            }
        }
        loss.memory().setAtIndex(JAVA_FLOAT, 0, (float) (total * scale));
    }

    /** One row at a time in double, as the cross-entropy: log-softmax of both at 1/T, then Σ p_t·(log p_t − log p_s). */
    @Override
    public void softTargetKl(Tensor student, Tensor teacher, float temperature, Tensor loss, Tensor gradStudent) {
        java.lang.foreign.MemorySegment s = student.memory();
        java.lang.foreign.MemorySegment t = teacher.memory();
        java.lang.foreign.MemorySegment grad = gradStudent == null ? null : gradStudent.memory();
        int batch = student.shape().dim(0);
        int classes = student.shape().dim(1);
        double inverseT = 1.0 / temperature;
        double total = 0;
        for (int n = 0; n < batch; n++) {
            long base = (long) n * classes;
            double logSumS = logSumExp(s, base, classes, inverseT);
            double logSumT = logSumExp(t, base, classes, inverseT);
            for (int c = 0; c < classes; c++) {
                double logPs = s.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, base + c) * inverseT - logSumS;
                double logPt = t.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, base + c) * inverseT - logSumT;
                double pt = Math.exp(logPt);
                if (pt > 0) {
                    total += pt * (logPt - logPs);
                }
                if (grad != null) {
                    grad.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, base + c,
                            (float) ((Math.exp(logPs) - pt) * inverseT / batch));
                }
            }
        }
        loss.memory().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, (float) (total / batch));
    }

    /** log Σ_c exp(x[c]·scale), shifted by the largest for stability. */
    private static double logSumExp(java.lang.foreign.MemorySegment x, long base, int classes, double scale) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, base + c) * scale);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            sum += Math.exp(x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, base + c) * scale - max);
        }
        return Math.log(sum) + max;
    }
}
