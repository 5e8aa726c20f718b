package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real Fashion-MNIST from Debian's dataset-fashion-mnist package. Without it this test fails
 * with the DatasetNotFoundException's instructions: the end-to-end tests depend on the data.
 */
class FashionMnistTest {
    private static final int ANKLE_BOOT = 9;

    @Test
    void debianPackageHasTheStandardSplits() throws IOException {
        Datasets.Split split = Datasets.fashionMnist(null);
        assertDataset(split.train(), 60000, 6000);
        assertDataset(split.test(), 10000, 1000);
        assertEquals(ANKLE_BOOT, split.train().label(0));
        assertTrue(split.train().describe().startsWith("fashion-mnist train: 60000 samples of [1, 28, 28]"),
                split.train().describe());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(ValueLayout.JAVA_FLOAT, 784);
            split.train().read(0, image, 0);
            float sum = 0;
            for (int i = 0; i < 784; i++) {
                float value = image.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                assertTrue(value >= 0 && value <= 1, "pixel " + i + " = " + value);
                sum += value;
            }
            // The first training image is a boot on a black background: neither empty nor saturated.
            assertTrue(sum > 50 && sum < 700, "sum of the first image " + sum);
        }
    }

    private static void assertDataset(Dataset dataset, int size, int perClass) {
        assertEquals(size, dataset.size());
        assertEquals(Shape.of(1, 28, 28), dataset.sampleShape());
        assertEquals(10, dataset.classes());
        int[] counts = new int[10];
        for (int i = 0; i < dataset.size(); i++) {
            counts[dataset.label(i)]++;
        }
        int[] expected = new int[10];
        java.util.Arrays.fill(expected, perClass);
        assertArrayEquals(expected, counts);
    }
}
