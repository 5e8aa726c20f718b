package dev.isthmus.device.cpu;

import dev.isthmus.device.LossKernels;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

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
}
