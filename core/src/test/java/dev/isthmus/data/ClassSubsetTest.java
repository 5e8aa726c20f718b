package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Some classes of a dataset, relabelled by their position in the list. */
class ClassSubsetTest {
    @Test
    void keepsTheChosenClassesRelabelledInOrder() {
        byte[] pixels = {10, 20, 30, 40, 50, 60};
        InMemoryDataset source = new InMemoryDataset("six", Shape.of(1, 1, 1), 4, pixels, new int[] {0, 3, 2, 3, 1, 2});
        ClassSubset subset = new ClassSubset(source, 3, 2);
        assertEquals(4, subset.size());
        assertEquals(2, subset.classes());
        int[] labels = new int[4];
        float[] values = new float[4];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(4);
            for (int i = 0; i < 4; i++) {
                labels[i] = subset.label(i);
                subset.read(i, sample, 0);
                values[i] = sample.get(ValueLayout.JAVA_FLOAT, 0);
            }
        }
        assertEquals("[0, 1, 0, 1]", java.util.Arrays.toString(labels));
        assertEquals(20 / 255f, values[0], 1e-6);
        assertEquals(60 / 255f, values[3], 1e-6);
        assertTrue(subset.describe().contains("[3, 2]"), subset.describe());
        assertThrows(IllegalArgumentException.class, () -> subset.label(4));
        assertThrows(IllegalArgumentException.class, () -> new ClassSubset(source, 4));
        assertThrows(IllegalArgumentException.class, () -> new ClassSubset(source, 1, 1));
    }
}
