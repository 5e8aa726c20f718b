package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryDatasetTest {
    /** Five 1x1x2 samples: sample n has pixels (10n, 10n+1) and label n mod 3. */
    private static InMemoryDataset five() {
        byte[] pixels = new byte[10];
        for (int i = 0; i < 10; i++) {
            pixels[i] = (byte) (10 * (i / 2) + i % 2);
        }
        return new InMemoryDataset("five", Shape.of(1, 1, 2), 3, pixels, new int[] {0, 1, 2, 0, 1});
    }

    @Test
    void subsetIsAShiftedView() {
        InMemoryDataset subset = five().subset(2, 3).subset(1, 2);
        assertEquals(2, subset.size());
        assertEquals(0, subset.label(0));
        assertEquals(1, subset.label(1));
        assertTrue(subset.describe().startsWith("five[3:5]: 2 samples of [1, 1, 2], 3 classes"), subset.describe());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, 2);
            subset.read(1, sample, 0);
            assertEquals(40 / 255f, sample.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            assertEquals(41 / 255f, sample.getAtIndex(ValueLayout.JAVA_FLOAT, 1));
        }
        assertThrows(IllegalArgumentException.class, () -> five().subset(3, 3));
        assertThrows(IllegalArgumentException.class, () -> five().subset(-1, 1));
        assertEquals(0, five().subset(5, 0).size());
    }

    @Test
    void indexAndDestinationAreChecked() {
        InMemoryDataset dataset = five();
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class, () -> dataset.label(5));
        assertTrue(outside.getMessage().contains("index 5") && outside.getMessage().contains("size 5"),
                outside.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, 3);
            assertThrows(IllegalArgumentException.class, () -> dataset.read(-1, sample, 0));
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> dataset.read(0, sample, 2));
            assertTrue(small.getMessage().contains("offset 2"), small.getMessage());
        }
    }

    @Test
    void constructorValidates() {
        Shape shape = Shape.of(1, 1, 2);
        assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset("x", shape, 3, new byte[5], new byte[] {0, 1, 2}));
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset("x", shape, 3, new byte[4], new byte[] {0, 3}));
        assertTrue(label.getMessage().contains("label 3 of sample 1"), label.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset("x", shape, 3, new byte[4], new int[] {0, -1}));
        assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset("x", Shape.of(2, 1), 3, new byte[4], new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class,
                () -> new InMemoryDataset("x", shape, 0, new byte[0], new int[0]));
        // Bytes are unsigned: 200 is a valid label among 256 classes.
        assertEquals(200, new InMemoryDataset("x", shape, 256, new byte[2], new byte[] {(byte) 200}).label(0));
    }
}
