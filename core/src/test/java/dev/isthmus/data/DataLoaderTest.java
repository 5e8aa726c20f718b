package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataLoaderTest {
    private static final int CLASSES = 7;

    /** Samples of [1, 1, 2] whose two pixels spell their own index (low byte, high byte); label index mod 7. */
    static InMemoryDataset indexed(int size) {
        byte[] pixels = new byte[2 * size];
        int[] labels = new int[size];
        for (int i = 0; i < size; i++) {
            pixels[2 * i] = (byte) i;
            pixels[2 * i + 1] = (byte) (i >> 8);
            labels[i] = i % CLASSES;
        }
        return new InMemoryDataset("indexed", Shape.of(1, 1, 2), CLASSES, pixels, labels);
    }

    /** The sample indices of a batch of {@link #indexed} samples, checking each label on the way. */
    private static int[] indices(Batch batch) {
        int[] indices = new int[batch.size()];
        for (int s = 0; s < batch.size(); s++) {
            int low = Math.round(batch.images().getAtIndex(ValueLayout.JAVA_FLOAT, 2L * s) * 255);
            int high = Math.round(batch.images().getAtIndex(ValueLayout.JAVA_FLOAT, 2L * s + 1) * 255);
            indices[s] = low + 256 * high;
            assertEquals(indices[s] % CLASSES, batch.labels().getAtIndex(ValueLayout.JAVA_INT, s), "label of " + indices[s]);
        }
        return indices;
    }

    /** The sample indices of one whole epoch, in order. */
    static int[] epochOrder(DataLoader loader, int epoch) {
        loader.startEpoch(epoch);
        List<Integer> order = new ArrayList<>();
        for (Batch batch = loader.next(); batch != null; batch = loader.next()) {
            for (int index : indices(batch)) {
                order.add(index);
            }
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void everySampleOncePerEpochWithExactBatchSizes() {
        for (int size : new int[] {1, 7, 10, 64, 101}) {
            for (int batchSize : new int[] {1, 3, 10, 64, 200}) {
                for (boolean dropLast : new boolean[] {false, true}) {
                    if (dropLast && batchSize > size) {
                        continue;
                    }
                    String what = size + " samples, batch " + batchSize + ", dropLast " + dropLast;
                    try (DataLoader loader = new DataLoader(indexed(size), batchSize, true, dropLast, 5, null, null, false)) {
                        int expectedBatches = dropLast ? size / batchSize : (size + batchSize - 1) / batchSize;
                        assertEquals(expectedBatches, loader.batchesPerEpoch(), what);
                        loader.startEpoch(2);
                        int[] seen = new int[size];
                        for (int b = 0; b < expectedBatches; b++) {
                            Batch batch = loader.next();
                            int expectedSize = dropLast || b < expectedBatches - 1 ? batchSize : size - b * batchSize;
                            assertEquals(expectedSize, batch.size(), what + ", batch " + b);
                            assertEquals(Shape.of(expectedSize, 1, 1, 2), batch.shape(), what);
                            assertEquals(expectedSize * 2L * Float.BYTES, batch.images().byteSize(), what);
                            assertEquals(expectedSize * (long) Integer.BYTES, batch.labels().byteSize(), what);
                            for (int index : indices(batch)) {
                                seen[index]++;
                            }
                        }
                        assertNull(loader.next(), what);
                        assertNull(loader.next(), what);
                        int once = 0;
                        for (int count : seen) {
                            assertTrue(count <= 1, what);
                            once += count;
                        }
                        assertEquals(dropLast ? expectedBatches * batchSize : size, once, what);
                    }
                }
            }
        }
    }

    @Test
    void orderIsAPureFunctionOfSeedAndEpoch() {
        try (DataLoader first = new DataLoader(indexed(100), 8, true, false, 42, null, null, false);
             DataLoader second = new DataLoader(indexed(100), 8, true, false, 42, null, null, false);
             DataLoader otherSeed = new DataLoader(indexed(100), 8, true, false, 43, null, null, false)) {
            int[] epoch0 = epochOrder(first, 0);
            int[] epoch1 = epochOrder(first, 1);
            // Resuming at epoch 1 without having run epoch 0 gives the same order.
            assertArrayEquals(epoch1, epochOrder(second, 1));
            assertArrayEquals(epoch0, epochOrder(second, 0));
            assertArrayEquals(epoch0, epochOrder(first, 0));
            assertFalse(Arrays.equals(epoch0, epoch1));
            assertFalse(Arrays.equals(epoch0, epochOrder(otherSeed, 0)));
            int[] identity = new int[100];
            Arrays.setAll(identity, i -> i);
            assertFalse(Arrays.equals(identity, epoch0));
        }
    }

    @Test
    void withoutShuffleTheOrderIsTheDatasets() {
        int[] identity = new int[23];
        Arrays.setAll(identity, i -> i);
        try (DataLoader loader = new DataLoader(indexed(23), 5, false, false, 42, null, null, true)) {
            assertArrayEquals(identity, epochOrder(loader, 0));
            assertArrayEquals(identity, epochOrder(loader, 9));
        }
    }

    /** Batches as bytes: images then labels, for exact comparison. */
    static List<byte[]> epochBytes(DataLoader loader, int epoch) {
        loader.startEpoch(epoch);
        List<byte[]> batches = new ArrayList<>();
        for (Batch batch = loader.next(); batch != null; batch = loader.next()) {
            batches.add(batch.images().toArray(ValueLayout.JAVA_BYTE));
            batches.add(batch.labels().toArray(ValueLayout.JAVA_BYTE));
        }
        return batches;
    }

    private static void assertSameBatches(List<byte[]> expected, List<byte[]> actual) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "segment " + i);
        }
    }

    @Test
    void prefetchGivesTheSameBytes() {
        Dataset dataset = new SyntheticDataset(Shape.of(3, 8, 8), 4, 37, 99);
        Normalization normalization = new Normalization(new float[] {0.4f, 0.5f, 0.6f}, new float[] {0.2f, 0.25f, 0.3f});
        Augmentation augmentation = new Augmentation(2, true);
        try (DataLoader plain = new DataLoader(dataset, 8, true, false, 3, normalization, augmentation, false);
             DataLoader prefetching = new DataLoader(dataset, 8, true, false, 3, normalization, augmentation, true)) {
            List<byte[]> epoch0 = epochBytes(plain, 0);
            List<byte[]> epoch1 = epochBytes(plain, 1);
            assertSameBatches(epoch1, epochBytes(prefetching, 1));
            assertSameBatches(epoch0, epochBytes(prefetching, 0));
            assertSameBatches(epoch1, epochBytes(prefetching, 1));
            assertFalse(Arrays.equals(epoch0.get(0), epoch1.get(0)));
        }
    }

    @Test
    void prefetchSurvivesRestartingAnEpochMidway() {
        Dataset dataset = new SyntheticDataset(Shape.of(1, 4, 4), 3, 30, 1);
        try (DataLoader plain = new DataLoader(dataset, 4, true, false, 3, null, null, false);
             DataLoader prefetching = new DataLoader(dataset, 4, true, false, 3, null, null, true)) {
            prefetching.startEpoch(0);
            prefetching.next();
            prefetching.startEpoch(5);
            assertSameBatches(epochBytes(plain, 5), epochBytes(prefetching, 5));
        }
    }

    @Test
    void normalizationArithmetic() {
        // Two channels of 1x2: pixels 0, 51 | 102, 255.
        InMemoryDataset dataset = new InMemoryDataset("two", Shape.of(2, 1, 2), 2,
                new byte[] {0, 51, 102, (byte) 255}, new int[] {1});
        Normalization normalization = new Normalization(new float[] {0.5f, 0.25f}, new float[] {0.5f, 2f});
        try (DataLoader loader = new DataLoader(dataset, 1, false, false, 0, normalization, null, false)) {
            loader.startEpoch(0);
            float[] values = loader.next().images().toArray(ValueLayout.JAVA_FLOAT);
            assertArrayEquals(new float[] {(0f - 0.5f) / 0.5f, (51 / 255f - 0.5f) / 0.5f,
                    (102 / 255f - 0.25f) / 2f, (1f - 0.25f) / 2f}, values);
            assertEquals(-1f, values[0]);
            assertEquals(0.375f, values[3]);
        }
        // Every byte value through a std that is not a power of two: multiplying by a reciprocal
        // instead of dividing would round differently for some of them.
        byte[] everyValue = new byte[256];
        for (int i = 0; i < 256; i++) {
            everyValue[i] = (byte) i;
        }
        Normalization odd = new Normalization(new float[] {0.1307f}, new float[] {0.3081f});
        try (DataLoader loader = new DataLoader(new InMemoryDataset("bytes", Shape.of(1, 16, 16), 1, everyValue,
                new int[] {0}), 1, false, false, 0, odd, null, true)) {
            loader.startEpoch(0);
            float[] values = loader.next().images().toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < 256; i++) {
                assertEquals((i / 255f - 0.1307f) / 0.3081f, values[i], "byte " + i);
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> new DataLoader(dataset, 1, false, false, 0, new Normalization(new float[] {0}, new float[] {1}), null, false));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(new float[] {0, 0}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(new float[] {0}, new float[] {0}));
        assertThrows(IllegalArgumentException.class, () -> new Normalization(new float[] {0}, new float[] {Float.NaN}));
        float[] mean = {0.5f};
        Normalization copied = new Normalization(mean, new float[] {1});
        mean[0] = 9;
        assertEquals(0.5f, copied.mean()[0]);
    }

    @Test
    void constructorAndLifecycleMisuse() {
        InMemoryDataset dataset = indexed(10);
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(null, 1, false, false, 0, null, null, false));
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> new DataLoader(dataset, 0, false, false, 0, null, null, false));
        assertTrue(zero.getMessage().contains("batch size must be >= 1, got 0"), zero.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new DataLoader(dataset.subset(0, 0), 1, false, false, 0, null, null, false));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
        IllegalArgumentException noBatch = assertThrows(IllegalArgumentException.class,
                () -> new DataLoader(dataset, 11, false, true, 0, null, null, false));
        assertTrue(noBatch.getMessage().contains("no batch"), noBatch.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Augmentation(-1, false));

        DataLoader loader = new DataLoader(dataset, 4, true, false, 0, null, null, true);
        IllegalStateException early = assertThrows(IllegalStateException.class, loader::next);
        assertTrue(early.getMessage().contains("startEpoch"), early.getMessage());
        assertThrows(IllegalArgumentException.class, () -> loader.startEpoch(-1));
        loader.startEpoch(0);
        Batch batch = loader.next();
        loader.close();
        loader.close();
        assertThrows(IllegalStateException.class, loader::next);
        assertThrows(IllegalStateException.class, () -> loader.startEpoch(1));
        // The buffers are freed: an old batch can no longer be read.
        assertThrows(IllegalStateException.class, () -> batch.images().getAtIndex(ValueLayout.JAVA_FLOAT, 0));
        assertEquals(3, loader.batchesPerEpoch());
        assertEquals(4, loader.batchSize());
        assertEquals(dataset, loader.dataset());
    }

    @Test
    void segmentsCopyIntoAnExactlySizedTensor() {
        try (DataLoader loader = new DataLoader(indexed(10), 4, false, false, 0, null, null, false)) {
            loader.startEpoch(0);
            loader.next();
            loader.next();
            Batch last = loader.next();
            assertEquals(2, last.size());
            float[] tensor = new float[(int) last.shape().elementCount()];
            MemorySegment.copy(last.images(), 0, MemorySegment.ofArray(tensor), 0, last.images().byteSize());
            assertArrayEquals(new float[] {8 / 255f, 0, 9 / 255f, 0}, tensor);
            assertNotEquals(null, last.toString());
        }
    }

    private static long allocatedBytes(Thread thread) {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(thread.threadId());
    }

    /**
     * The steady state allocates no objects per batch, on the caller's thread or the prefetch
     * thread: an epoch of 4000 batches allocates less than one byte per batch (any per-batch
     * object, lambda or array would cost at least 16).
     */
    @Test
    void steadyStateAllocatesNothingPerBatch() {
        Dataset dataset = new InMemoryDataset("bytes", Shape.of(2, 4, 4), 3, new byte[4000 * 32], new byte[4000]);
        Normalization normalization = new Normalization(new float[] {0.5f, 0.5f}, new float[] {0.2f, 0.2f});
        for (boolean prefetch : new boolean[] {false, true}) {
            try (DataLoader loader = new DataLoader(dataset, 1, true, false, 0, normalization, new Augmentation(1, true),
                    prefetch)) {
                for (int epoch = 0; epoch < 3; epoch++) {
                    Thread caller = Thread.currentThread();
                    long callerBefore = allocatedBytes(caller);
                    long workerBefore = prefetch ? allocatedBytes(loader.prefetchThread()) : 0;
                    loader.startEpoch(epoch);
                    int batches = 0;
                    while (loader.next() != null) {
                        batches++;
                    }
                    long callerBytes = allocatedBytes(caller) - callerBefore;
                    long workerBytes = prefetch ? allocatedBytes(loader.prefetchThread()) - workerBefore : 0;
                    assertEquals(4000, batches);
                    if (epoch > 0) {
                        // The first epoch warms up (class loading, JIT); the order array is reused.
                        assertTrue(callerBytes < batches, "caller allocated " + callerBytes + " bytes, prefetch " + prefetch);
                        assertTrue(workerBytes < batches, "prefetch thread allocated " + workerBytes + " bytes");
                    }
                }
            }
        }
    }
}
