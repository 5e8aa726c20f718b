package dev.isthmus.device.cpu;

import dev.isthmus.device.ReductionKernels;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The CPU's reductions: sums in double precision, one pass over memory (layout does not matter for
 * a whole-tensor sum), and the top-k hit count of a batch of logits.
 */
final class CpuReductions implements ReductionKernels.Backend {
    @Override
    public double sumOfSquares(Tensor x) {
        MemorySegment in = x.memory();
        long count = x.elementCount();
        double sum = 0;
        for (long i = 0; i < count; i++) {
            double v = in.getAtIndex(JAVA_FLOAT, i);
            sum += v * v;
        }
        return sum;
    }

    @Override
    public long countNonFinite(Tensor x) {
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

    /** counter += the rows of logits [N, C] whose label is among their k top-ranked classes (see Device.countCorrect). */
    @Override
    public void countCorrect(Tensor logits, Tensor labels, int k, Tensor counter) {
        MemorySegment scores = logits.memory();
        MemorySegment classesOf = labels.memory();
        int rows = logits.shape().dim(0);
        int classes = logits.shape().dim(1);
        int correct = 0;
        for (int n = 0; n < rows; n++) {
            int label = classesOf.getAtIndex(JAVA_INT, n);
            if (label < 0 || label >= classes) {
                continue;
            }
            long row = (long) n * classes;
            float target = scores.getAtIndex(JAVA_FLOAT, row + label);
            int above = 0;
            for (int c = 0; c < classes && above < k; c++) {
                if (ranksAbove(scores.getAtIndex(JAVA_FLOAT, row + c), c, target, label)) {
                    above++;
                }
            }
            if (above < k) {
                correct++;
            }
        }
        MemorySegment total = counter.memory();
        total.set(JAVA_INT, 0, total.get(JAVA_INT, 0) + correct);
    }

    /**
     * counts += the pixel counts of logits [N, C, H, W] against labels [N, H, W] (see
     * ReductionKernels.countSegmentation); the logits are read in their layout, so a channels-last
     * network output needs no conversion.
     */
    @Override
    public void countSegmentation(Tensor logits, Tensor labels, int ignoreIndex, Tensor counts) {
        MemorySegment scores = logits.memory();
        MemorySegment truth = labels.memory();
        MemorySegment total = counts.memory();
        int batch = logits.shape().dim(0);
        int classes = logits.shape().dim(1);
        long pixels = (long) logits.shape().dim(2) * logits.shape().dim(3);
        boolean channelsLast = logits.layout() == Layout.CHANNELS_LAST;
        long classStride = channelsLast ? 1 : pixels;
        int correct = 0;
        int counted = 0;
        for (int n = 0; n < batch; n++) {
            for (long p = 0; p < pixels; p++) {
                int label = truth.getAtIndex(JAVA_INT, n * pixels + p);
                if (label == ignoreIndex || label < 0 || label >= classes) {
                    continue;
                }
                long base = channelsLast ? (n * pixels + p) * classes : (long) n * classes * pixels + p;
                int best = 0;
                float bestValue = scores.getAtIndex(JAVA_FLOAT, base);
                for (int c = 1; c < classes; c++) {
                    float value = scores.getAtIndex(JAVA_FLOAT, base + c * classStride);
                    // torch.argmax: NaN above every number, the first maximum kept on ties.
                    if (!Float.isNaN(bestValue) && (Float.isNaN(value) || value > bestValue)) {
                        best = c;
                        bestValue = value;
                    }
                }
                counted++;
                add(total, 2 + classes + best, 1);
                add(total, 2 + 2 * classes + label, 1);
                if (best == label) {
                    correct++;
                    add(total, 2 + label, 1);
                }
            }
        }
        add(total, ReductionKernels.SEGMENTATION_CORRECT, correct);
        add(total, ReductionKernels.SEGMENTATION_COUNTED, counted);
    }

    private static void add(MemorySegment counts, long index, int amount) {
        counts.setAtIndex(JAVA_INT, index, counts.getAtIndex(JAVA_INT, index) + amount);
    }

    /**
     * Whether class c with logit v ranks above the label's logit t in torch.topk's order: NaN above
     * every number, then larger values, and among equals the lower index first.
     */
    static boolean ranksAbove(float v, int c, float t, int label) {
        boolean vNaN = Float.isNaN(v);
        boolean tNaN = Float.isNaN(t);
        if (vNaN || tNaN) {
            return vNaN && (!tNaN || c < label);
        }
        return v > t || (v == t && c < label);
    }
}
