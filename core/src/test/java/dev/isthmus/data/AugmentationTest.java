package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AugmentationTest {
    private static final int CHANNELS = 2;
    private static final int HEIGHT = 5;
    private static final int WIDTH = 6;
    private static final int FLOATS = CHANNELS * HEIGHT * WIDTH;

    /** {@code copies} identical images whose pixels are all distinct and non-zero: 1 + c·30 + y·6 + x. */
    private static InMemoryDataset knownImages(int copies) {
        byte[] pixels = new byte[copies * FLOATS];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (1 + i % FLOATS);
        }
        return new InMemoryDataset("known", Shape.of(CHANNELS, HEIGHT, WIDTH), 1, pixels, new byte[copies]);
    }

    private static float pixel(int channel, int y, int x) {
        return (1 + channel * 30 + y * 6 + x) / 255f;
    }

    /** What the loader must produce for a shift (dy, dx) and flip, then normalisation. */
    private static float[] expected(int dy, int dx, boolean flip, Normalization normalization) {
        float[] image = new float[FLOATS];
        for (int c = 0; c < CHANNELS; c++) {
            for (int y = 0; y < HEIGHT; y++) {
                for (int x = 0; x < WIDTH; x++) {
                    int sourceY = y + dy;
                    int sourceX = (flip ? WIDTH - 1 - x : x) + dx;
                    boolean inside = sourceY >= 0 && sourceY < HEIGHT && sourceX >= 0 && sourceX < WIDTH;
                    float value = inside ? pixel(c, sourceY, sourceX) : 0f;
                    image[(c * HEIGHT + y) * WIDTH + x] = (value - normalization.mean()[c]) / normalization.std()[c];
                }
            }
        }
        return image;
    }

    private static float[] sample(Batch batch, int s) {
        return batch.images().asSlice((long) s * FLOATS * Float.BYTES, (long) FLOATS * Float.BYTES)
                .toArray(ValueLayout.JAVA_FLOAT);
    }

    /** Every output is exactly one shift-and-flip of the known image; all shifts and both flips occur. */
    @Test
    void cropShiftsAndFlipMirrorsExactly() {
        int padding = 2;
        Normalization normalization = new Normalization(new float[] {0.5f, 0.25f}, new float[] {0.5f, 2f});
        Set<List<Integer>> shifts = new HashSet<>();
        int flips = 0;
        int samples = 400;
        try (DataLoader loader = new DataLoader(knownImages(samples), 50, true, false, 8, normalization,
                new Augmentation(padding, true), false)) {
            loader.startEpoch(0);
            for (Batch batch = loader.next(); batch != null; batch = loader.next()) {
                for (int s = 0; s < batch.size(); s++) {
                    float[] actual = sample(batch, s);
                    int matches = 0;
                    for (int dy = -padding; dy <= padding; dy++) {
                        for (int dx = -padding; dx <= padding; dx++) {
                            for (boolean flip : new boolean[] {false, true}) {
                                if (java.util.Arrays.equals(expected(dy, dx, flip, normalization), actual)) {
                                    matches++;
                                    shifts.add(List.of(dy, dx));
                                    flips += flip ? 1 : 0;
                                }
                            }
                        }
                    }
                    assertEquals(1, matches, "sample " + s + " is not one exact crop/flip of the image");
                }
            }
        }
        assertEquals(25, shifts.size(), "shifts seen: " + shifts);
        assertTrue(flips > samples * 0.35 && flips < samples * 0.65, flips + " of " + samples + " flipped");
    }

    @Test
    void drawsAreReproduciblePerEpoch() {
        Augmentation augmentation = new Augmentation(3, true);
        try (DataLoader first = new DataLoader(knownImages(64), 16, false, false, 5, null, augmentation, false);
             DataLoader second = new DataLoader(knownImages(64), 16, false, false, 5, null, augmentation, true)) {
            List<byte[]> epoch2 = DataLoaderTest.epochBytes(first, 2);
            List<byte[]> epoch3 = DataLoaderTest.epochBytes(first, 3);
            List<byte[]> again = DataLoaderTest.epochBytes(second, 2);
            for (int i = 0; i < epoch2.size(); i++) {
                assertArrayEquals(epoch2.get(i), again.get(i));
            }
            assertFalse(java.util.Arrays.equals(epoch2.get(0), epoch3.get(0)));
        }
    }

    /** No padding and no flip leave every image exactly as the dataset reads it. */
    @Test
    void identityAugmentationLeavesImagesUntouched() {
        Dataset dataset = new SyntheticDataset(Shape.of(3, 7, 5), 4, 20, 13);
        for (Augmentation augmentation : new Augmentation[] {new Augmentation(0, false), Augmentation.NONE, null}) {
            try (DataLoader loader = new DataLoader(dataset, 6, false, false, 1, null, augmentation, false);
                 Arena arena = Arena.ofConfined()) {
                MemorySegment original = arena.allocate(ValueLayout.JAVA_FLOAT, 105);
                loader.startEpoch(0);
                int index = 0;
                for (Batch batch = loader.next(); batch != null; batch = loader.next()) {
                    for (int s = 0; s < batch.size(); s++, index++) {
                        dataset.read(index, original, 0);
                        assertArrayEquals(original.toArray(ValueLayout.JAVA_FLOAT),
                                batch.images().asSlice(s * 105L * 4, 105L * 4).toArray(ValueLayout.JAVA_FLOAT));
                    }
                }
                assertEquals(20, index);
            }
        }
    }

    /** Flip without crop: each output is the original or its exact mirror, both occur. */
    @Test
    void flipAloneMirrorsRows() {
        Normalization none = new Normalization(new float[] {0, 0}, new float[] {1, 1});
        float[] original = expected(0, 0, false, none);
        float[] mirrored = expected(0, 0, true, none);
        assertEquals(pixel(1, 3, WIDTH - 1), mirrored[(HEIGHT + 3) * WIDTH]);
        int flipped = 0;
        try (DataLoader loader = new DataLoader(knownImages(100), 100, false, false, 77, null,
                new Augmentation(0, true), false)) {
            loader.startEpoch(0);
            Batch batch = loader.next();
            for (int s = 0; s < batch.size(); s++) {
                float[] actual = sample(batch, s);
                boolean isMirror = java.util.Arrays.equals(mirrored, actual);
                assertTrue(isMirror || java.util.Arrays.equals(original, actual), "sample " + s);
                flipped += isMirror ? 1 : 0;
            }
        }
        assertTrue(flipped > 25 && flipped < 75, flipped + " of 100 flipped");
    }
}
