package dev.isthmus.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Argument checks every {@link Dataset} implementation makes; messages name the dataset. */
final class SampleChecks {
    private SampleChecks() {
    }

    static void index(Dataset dataset, int index) {
        if (index < 0 || index >= dataset.size()) {
            throw new IllegalArgumentException(dataset.describe() + ": sample index " + index
                    + " is out of range for size " + dataset.size());
        }
    }

    static void destination(Dataset dataset, MemorySegment destination, long floatOffset, int floats) {
        if (destination == null) {
            throw new IllegalArgumentException(dataset.describe() + ": destination segment is null");
        }
        long capacity = destination.byteSize() / ValueLayout.JAVA_FLOAT.byteSize();
        if (floatOffset < 0 || floatOffset > capacity - floats) {
            throw new IllegalArgumentException(dataset.describe() + ": a sample of " + floats
                    + " floats at element offset " + floatOffset + " does not fit a destination of "
                    + capacity + " floats");
        }
    }
}
