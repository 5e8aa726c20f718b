package dev.isthmus.testing;

import java.util.SplittableRandom;

/** Random inputs for tests. */
public final class TestData {
    private TestData() {
    }

    /** Uniform values in [−scale, scale). */
    public static float[] uniform(int count, double scale, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return values;
    }

    /**
     * Distinct values at least {@code gap} apart, in random order, centred on 0: inputs for layers
     * with kinks (ReLU at 0, max pooling ties) so that a finite-difference probe of size below gap/2
     * never crosses one.
     */
    public static float[] spaced(int count, double gap, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            // Offset by half a gap so no value sits exactly at 0.
            values[i] = (float) ((i - count / 2 + 0.5) * gap);
        }
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            float swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
        return values;
    }

    /** Class labels in [0, classes). */
    public static int[] labels(int count, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = random.nextInt(classes);
        }
        return labels;
    }
}
