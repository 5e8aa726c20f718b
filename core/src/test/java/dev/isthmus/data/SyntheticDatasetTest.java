package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticDatasetTest {
    private static final Shape SHAPE = Shape.of(2, 6, 6);

    private static float[] sample(Dataset dataset, int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment segment = arena.allocate(ValueLayout.JAVA_FLOAT, 72);
            dataset.read(index, segment, 0);
            return segment.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    @Test
    void deterministicFromSeedAndIndex() {
        SyntheticDataset first = new SyntheticDataset(SHAPE, 4, 50, 7);
        SyntheticDataset second = new SyntheticDataset(SHAPE, 4, 50, 7);
        SyntheticDataset otherSeed = new SyntheticDataset(SHAPE, 4, 50, 8);
        for (int i = 0; i < 50; i++) {
            assertArrayEquals(sample(first, i), sample(second, i));
            assertEquals(first.label(i), second.label(i));
        }
        assertFalse(java.util.Arrays.equals(sample(first, 0), sample(otherSeed, 0)));
        assertFalse(java.util.Arrays.equals(sample(first, 0), sample(first, 1)));
        SyntheticDataset shifted = new SyntheticDataset(SHAPE, 4, 10, 7, 40);
        assertArrayEquals(sample(first, 45), sample(shifted, 5));
        assertThrows(IllegalArgumentException.class, () -> first.read(50, MemorySegment.ofArray(new float[72]), 0));
    }

    @Test
    void pixelsAreQuantisedToBytesInTheUnitRange() {
        float[] values = sample(new SyntheticDataset(SHAPE, 4, 1, 3), 0);
        for (float value : values) {
            assertTrue(value >= 0 && value < 1, "value " + value);
            float scaled = value * 255f;
            assertEquals(Math.round(scaled), scaled, 1e-4f, "not a byte over 255: " + value);
        }
    }

    /** A nearest-class-mean classifier learnt on the training split must classify the test split. */
    @Test
    void classesAreLearnable() {
        int classes = 5;
        Datasets.Split split = Datasets.synthetic(SHAPE, classes, 500, 200, 11);
        double[][] means = new double[classes][72];
        int[] counts = new int[classes];
        for (int i = 0; i < split.train().size(); i++) {
            int label = split.train().label(i);
            counts[label]++;
            float[] values = sample(split.train(), i);
            for (int p = 0; p < 72; p++) {
                means[label][p] += values[p];
            }
        }
        for (int c = 0; c < classes; c++) {
            assertTrue(counts[c] > 50, "class " + c + " has " + counts[c] + " of 500 samples");
            for (int p = 0; p < 72; p++) {
                means[c][p] /= counts[c];
            }
        }
        int correct = 0;
        for (int i = 0; i < split.test().size(); i++) {
            float[] values = sample(split.test(), i);
            int best = -1;
            double bestDistance = Double.MAX_VALUE;
            for (int c = 0; c < classes; c++) {
                double distance = 0;
                for (int p = 0; p < 72; p++) {
                    distance += (values[p] - means[c][p]) * (values[p] - means[c][p]);
                }
                if (distance < bestDistance) {
                    bestDistance = distance;
                    best = c;
                }
            }
            correct += best == split.test().label(i) ? 1 : 0;
        }
        assertTrue(correct >= 190, correct + " of 200 test samples classified correctly");
    }
}
