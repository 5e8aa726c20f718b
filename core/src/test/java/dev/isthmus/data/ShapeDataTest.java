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

/** The generated moving-shapes clips and shapes-segmentation images: determinism, contents, loading. */
class ShapeDataTest {

    private static float[] read(Dataset dataset, int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, dataset.sampleShape().elementCount());
            dataset.read(index, sample, 0);
            return sample.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    @Test
    void clipsArePureFunctionsOfSeedAndIndexWithBalancedDirections() {
        MovingShapes clips = new MovingShapes(2, 6, 16, 400, 3, 0);
        assertEquals(Shape.of(2, 6, 16, 16), clips.sampleShape());
        assertArrayEquals(read(clips, 17), read(new MovingShapes(2, 6, 16, 400, 3, 0), 17));
        assertFalse(java.util.Arrays.equals(read(clips, 17), read(new MovingShapes(2, 6, 16, 400, 4, 0), 17)));
        // The held-out range of the same seed continues the same sequence.
        assertArrayEquals(read(clips, 150), read(new MovingShapes(2, 6, 16, 300, 3, 100), 50));
        int[] counts = new int[MovingShapes.DIRECTIONS];
        for (int i = 0; i < clips.size(); i++) {
            counts[clips.label(i)]++;
        }
        for (int count : counts) {
            assertTrue(count > 70 && count < 130, "direction counts " + java.util.Arrays.toString(counts));
        }
        for (float v : read(clips, 5)) {
            assertTrue(v >= 0 && v <= 1, "value " + v);
        }
    }

    /** The brightness-weighted centre of the shape moves the way the label says. */
    @Test
    void theShapeMovesInItsLabelledDirection() {
        MovingShapes clips = new MovingShapes(1, 5, 24, 40, 9, 0);
        for (int i = 0; i < clips.size(); i++) {
            float[] clip = read(clips, i);
            double[] first = centre(clip, 0, 24);
            double[] last = centre(clip, 4, 24);
            double dx = last[0] - first[0];
            double dy = last[1] - first[1];
            int expected = Math.abs(dx) > Math.abs(dy) ? (dx > 0 ? 0 : 1) : (dy > 0 ? 2 : 3);
            assertEquals(expected, clips.label(i), "clip " + i + " moved by (" + dx + ", " + dy + ")");
        }
    }

    /** Centre of the pixels brighter than 0.5 in frame t. */
    private static double[] centre(float[] clip, int frame, int side) {
        double x = 0;
        double y = 0;
        int n = 0;
        for (int row = 0; row < side; row++) {
            for (int column = 0; column < side; column++) {
                if (clip[(frame * side + row) * side + column] > 0.5f) {
                    x += column;
                    y += row;
                    n++;
                }
            }
        }
        return new double[] {x / n, y / n};
    }

    @Test
    void theLoaderBatchesClipsAsNcdhw() {
        MovingShapes clips = new MovingShapes(3, 4, 8, 10, 1, 0);
        try (DataLoader loader = new DataLoader(clips, 4, true, false, 0, null, null, false)) {
            loader.startEpoch(0);
            Batch batch = loader.next();
            assertEquals(Shape.of(4, 3, 4, 8, 8), batch.shape());
        }
    }

    @Test
    void masksLabelWhatTheImagesShow() {
        ShapesSegmentation images = new ShapesSegmentation(3, 32, 50, 5, 0);
        assertEquals(Shape.of(3, 32, 32), images.sampleShape());
        int[] classCounts = new int[ShapesSegmentation.CLASSES];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(ValueLayout.JAVA_FLOAT, 3 * 32 * 32);
            MemorySegment mask = arena.allocate(ValueLayout.JAVA_INT, 32 * 32);
            for (int i = 0; i < images.size(); i++) {
                images.read(i, image, 0);
                images.readMask(i, mask, 0);
                for (int p = 0; p < 32 * 32; p++) {
                    int label = mask.getAtIndex(ValueLayout.JAVA_INT, p);
                    classCounts[label]++;
                    // Shapes are at least 0.55 - noise in every channel, the background at most 0.3 + noise.
                    float red = image.getAtIndex(ValueLayout.JAVA_FLOAT, p);
                    assertEquals(label != ShapesSegmentation.BACKGROUND, red > 0.42f, "image " + i + " pixel " + p);
                }
            }
            MemorySegment again = arena.allocate(ValueLayout.JAVA_INT, 32 * 32);
            images.readMask(7, mask, 0);
            new ShapesSegmentation(3, 32, 50, 5, 0).readMask(7, again, 0);
            assertEquals(-1, mask.mismatch(again));
            assertThrows(IllegalArgumentException.class, () -> images.readMask(50, again, 0));
            assertThrows(IllegalArgumentException.class, () -> images.readMask(0, again, 1));
        }
        for (int count : classCounts) {
            assertTrue(count > 1000, "class pixel counts " + java.util.Arrays.toString(classCounts));
        }
    }
}
