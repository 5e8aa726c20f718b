package dev.isthmus.device.cpu;

import dev.isthmus.device.ReductionKernels;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** The CPU's reductions, in double precision, one pass over memory (layout does not matter for a whole-tensor sum). */
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
}
