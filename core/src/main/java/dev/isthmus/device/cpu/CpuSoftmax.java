package dev.isthmus.device.cpu;

import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Softmax and log-softmax over axis 1, and the fused softmax cross-entropy loss. */
final class CpuSoftmax {
    private final CpuParallel parallel;

    CpuSoftmax(CpuParallel parallel) {
        this.parallel = parallel;
    }

    void forward(boolean log, Tensor x, Tensor y) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        int outer = x.shape().dim(0);
        int channels = x.shape().dim(1);
        int inner = CpuElementwise.innerSize(x);
        parallel.forRange(outer * inner, Math.max(1, 4096 / Math.max(1, channels)), (from, to) -> {
            for (int row = from; row < to; row++) {
                long base = (long) (row / inner) * channels * inner + row % inner;
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < channels; c++) {
                    max = Math.max(max, in.getAtIndex(JAVA_FLOAT, base + (long) c * inner));
                }
                double sum = 0;
                for (int c = 0; c < channels; c++) {
                    sum += Math.exp(in.getAtIndex(JAVA_FLOAT, base + (long) c * inner) - max);
                }
                if (log) {
                    double logSum = Math.log(sum) + max;
                    for (int c = 0; c < channels; c++) {
                        long i = base + (long) c * inner;
                        out.setAtIndex(JAVA_FLOAT, i, (float) (in.getAtIndex(JAVA_FLOAT, i) - logSum));
                    }
                } else {
                    double inverse = 1 / sum;
                    for (int c = 0; c < channels; c++) {
                        long i = base + (long) c * inner;
                        out.setAtIndex(JAVA_FLOAT, i, (float) (Math.exp(in.getAtIndex(JAVA_FLOAT, i) - max) * inverse));
                    }
                }
            }
        });
    }

    void backward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput) {
        MemorySegment out = y.memory();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        int outer = y.shape().dim(0);
        int channels = y.shape().dim(1);
        int inner = CpuElementwise.innerSize(y);
        parallel.forRange(outer * inner, Math.max(1, 4096 / Math.max(1, channels)), (from, to) -> {
            for (int row = from; row < to; row++) {
                long base = (long) (row / inner) * channels * inner + row % inner;
                double dot = 0;
                for (int c = 0; c < channels; c++) {
                    long i = base + (long) c * inner;
                    // softmax: sum dy·y;  log-softmax: sum dy.
                    dot += log ? dy.getAtIndex(JAVA_FLOAT, i) : dy.getAtIndex(JAVA_FLOAT, i) * out.getAtIndex(JAVA_FLOAT, i);
                }
                for (int c = 0; c < channels; c++) {
                    long i = base + (long) c * inner;
                    float yi = out.getAtIndex(JAVA_FLOAT, i);
                    float gi = dy.getAtIndex(JAVA_FLOAT, i);
                    dx.setAtIndex(JAVA_FLOAT, i, log ? (float) (gi - Math.exp(yi) * dot) : (float) (yi * (gi - dot)));
                }
            }
        });
    }

    /**
     * loss = mean over n of [(1 − ε)·(−log p[n, y_n]) + ε·mean_c(−log p[n, c])];
     * d loss / d logits = (p − q) / N with q = (1 − ε)·onehot(y) + ε/C.
     */
    void crossEntropy(Tensor logits, Tensor labels, float smoothing, Tensor loss, Tensor gradLogits) {
        MemorySegment in = logits.memory();
        MemorySegment target = labels.memory();
        MemorySegment grad = gradLogits == null ? null : gradLogits.memory();
        int batch = logits.shape().dim(0);
        int classes = logits.shape().dim(1);
        for (int n = 0; n < batch; n++) {
            int label = target.getAtIndex(JAVA_INT, n);
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("softmax cross-entropy: label " + label + " of sample " + n
                        + " is outside [0, " + classes + ")");
            }
        }
        double total = 0;
        double inverseBatch = 1.0 / batch;
        for (int n = 0; n < batch; n++) {
            long base = (long) n * classes;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, in.getAtIndex(JAVA_FLOAT, base + c));
            }
            double sum = 0;
            double logitSum = 0;
            for (int c = 0; c < classes; c++) {
                float v = in.getAtIndex(JAVA_FLOAT, base + c);
                sum += Math.exp(v - max);
                logitSum += v;
            }
            double logSum = Math.log(sum) + max;
            int label = target.getAtIndex(JAVA_INT, n);
            double nll = logSum - in.getAtIndex(JAVA_FLOAT, base + label);
            double smoothTerm = logSum - logitSum / classes;
            total += (1 - smoothing) * nll + smoothing * smoothTerm;
            if (grad != null) {
                double off = smoothing / classes;
                for (int c = 0; c < classes; c++) {
                    double p = Math.exp(in.getAtIndex(JAVA_FLOAT, base + c) - logSum);
                    double q = off + (c == label ? 1 - smoothing : 0);
                    grad.setAtIndex(JAVA_FLOAT, base + c, (float) ((p - q) * inverseBatch));
                }
            }
        }
        loss.memory().setAtIndex(JAVA_FLOAT, 0, (float) (total * inverseBatch));
    }
}
