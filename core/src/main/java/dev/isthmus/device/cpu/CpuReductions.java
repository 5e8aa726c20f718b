package dev.isthmus.device.cpu;

import dev.isthmus.device.ReductionKernels;
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
