package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A segmentation set through the {@link DataLoader}: each batch's masks are [n, H, W], intact and in
 * the order of its images, shuffled, prefetched, sharded and in a short last batch alike; augmentation,
 * which would not move the masks, is refused.
 */
class SegmentationLoaderTest {
    private static final int SIDE = 16;

    /** Which sample each image is: the images of the generator differ (noise per pixel). */
    private static Map<String, Integer> imageIndex(ShapesSegmentation data) {
        Map<String, Integer> index = new HashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(ValueLayout.JAVA_FLOAT, data.sampleShape().elementCount());
            for (int i = 0; i < data.size(); i++) {
                data.read(i, image, 0);
                index.put(Arrays.toString(image.toArray(ValueLayout.JAVA_FLOAT)), i);
            }
        }
        assertEquals(data.size(), index.size(), "every image differs");
        return index;
    }

    private static int[] mask(ShapesSegmentation data, int index) {
        int[] mask = new int[SIDE * SIDE];
        data.readMask(index, MemorySegment.ofArray(mask), 0);
        return mask;
    }

    @Test
    void masksArriveIntactAndInTheOrderOfTheirImages() {
        ShapesSegmentation data = new ShapesSegmentation(2, SIDE, 21, 3, 0);
        Map<String, Integer> index = imageIndex(data);
        assertEquals(Shape.of(SIDE, SIDE), data.labelShape());
        for (boolean prefetch : new boolean[] {false, true}) {
            for (DataShard shard : new DataShard[] {DataShard.WHOLE, new DataShard(1, 2, true)}) {
                try (DataLoader loader = new DataLoader(data, 4, true, false, 9, null, null, prefetch, shard)) {
                    assertEquals(Shape.of(SIDE, SIDE), loader.labelShape());
                    for (int epoch = 0; epoch < 2; epoch++) {
                        loader.startEpoch(epoch);
                        Set<Integer> seen = new HashSet<>();
                        int samples = 0;
                        for (Batch batch = loader.next(); batch != null; batch = loader.next()) {
                            int n = batch.size();
                            assertEquals(Shape.of(n, SIDE, SIDE), batch.labelShape());
                            assertEquals((long) n * SIDE * SIDE * Integer.BYTES, batch.labels().byteSize());
                            float[] images = batch.images().toArray(ValueLayout.JAVA_FLOAT);
                            int[] masks = batch.labels().toArray(ValueLayout.JAVA_INT);
                            int floats = 2 * SIDE * SIDE;
                            for (int s = 0; s < n; s++) {
                                Integer which = index.get(Arrays.toString(Arrays.copyOfRange(images, s * floats, (s + 1) * floats)));
                                assertNotNull(which, "sample " + s + " of " + batch + " is one of the set's images");
                                seen.add(which);
                                assertArrayEquals(mask(data, which),
                                        Arrays.copyOfRange(masks, s * SIDE * SIDE, (s + 1) * SIDE * SIDE),
                                        "the mask of image " + which + " (prefetch " + prefetch + ", " + shard.rank() + ")");
                            }
                            samples += n;
                        }
                        assertEquals(shard.size(data.size()), samples);
                        assertTrue(seen.size() > 1, "shuffled images, " + seen);
                    }
                }
            }
        }
    }

    @Test
    void anImageWithAClassPerSampleKeepsItsLabelsOfShapeN() {
        InMemoryDataset dataset = DataLoaderTest.indexed(10);
        try (DataLoader loader = new DataLoader(dataset, 4, false, false, 1, null, null, false)) {
            assertEquals(Shape.of(), loader.labelShape());
            loader.startEpoch(0);
            Batch batch = loader.next();
            assertEquals(Shape.of(4), batch.labelShape());
            assertEquals(4L * Integer.BYTES, batch.labels().byteSize());
        }
    }

    @Test
    void augmentationIsRefusedForMasksItWouldNotMove() {
        ShapesSegmentation data = new ShapesSegmentation(1, SIDE, 8, 3, 0);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> new DataLoader(data, 4, true, false, 1, null, new Augmentation(2, true), false));
        assertTrue(refused.getMessage().contains("class per pixel [16, 16]"), refused.getMessage());
        // An identity augmentation changes nothing, so it is not refused.
        new DataLoader(data, 4, true, false, 1, null, new Augmentation(0, false), false).close();
    }

    @Test
    void aSegmentationSampleHasNoSingleClass() {
        ShapesSegmentation data = new ShapesSegmentation(1, SIDE, 8, 3, 0);
        UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class, () -> data.label(0));
        assertTrue(refused.getMessage().contains("per pixel [16, 16]"), refused.getMessage());
        assertEquals(3, data.first(3).size());
        assertArrayEquals(mask(data, 2), mask(data.first(3), 2));
    }
}
