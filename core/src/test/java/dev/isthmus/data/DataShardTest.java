package dev.isthmus.data;

import dev.isthmus.distributed.DistributedShard;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each process's share of an epoch: DistributedSampler's, and what a sharded DataLoader reads. */
class DataShardTest {
    @Test
    void paddedSharesMatchDistributedSamplerAndCoverTheOrder() {
        // torch: DistributedSampler(range(10), num_replicas=3, shuffle=False).__iter__ per rank
        // gives [0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1] (padded by repeating the start).
        int[] order = IntStream.range(0, 10).toArray();
        int[][] torch = {{0, 3, 6, 9}, {1, 4, 7, 0}, {2, 5, 8, 1}};
        for (int rank = 0; rank < 3; rank++) {
            DataShard shard = new DataShard(rank, 3, true);
            assertEquals(4, shard.size(10));
            int[] mine = new int[shard.size(10)];
            for (int k = 0; k < mine.length; k++) {
                mine[k] = order[shard.globalPosition(k, 10)];
            }
            assertArrayEquals(torch[rank], mine, "rank " + rank);
            assertArrayEquals(DistributedShard.select(order, rank, 3, false), mine, "rank " + rank);
        }
    }

    @Test
    void unpaddedSharesSplitTheSetWithoutRepeats() {
        assertEquals(4, new DataShard(0, 3, false).size(10));
        assertEquals(3, new DataShard(1, 3, false).size(10));
        assertEquals(3, new DataShard(2, 3, false).size(10));
        assertEquals(0, new DataShard(2, 3, false).size(2));
        assertEquals(10, DataShard.WHOLE.size(10));
        assertThrows(IllegalArgumentException.class, () -> new DataShard(2, 2, true));
        assertThrows(IllegalArgumentException.class, () -> new DataShard(0, 0, true));
    }

    @Test
    void twoShardsOfBatch32AreStepByStepOneLoaderOfBatch64() {
        InMemoryDataset dataset = DataLoaderTest.indexed(200);
        try (DataLoader whole = new DataLoader(dataset, 64, true, false, 11, null, null, false);
             DataLoader rank0 = new DataLoader(dataset, 32, true, false, 11, null, null, true, new DataShard(0, 2, true));
             DataLoader rank1 = new DataLoader(dataset, 32, true, false, 11, null, null, false, new DataShard(1, 2, true))) {
            for (int epoch = 0; epoch < 2; epoch++) {
                whole.startEpoch(epoch);
                rank0.startEpoch(epoch);
                rank1.startEpoch(epoch);
                assertEquals(whole.batchesPerEpoch(), rank0.batchesPerEpoch());
                assertEquals(whole.batchesPerEpoch(), rank1.batchesPerEpoch());
                for (Batch batch = whole.next(); batch != null; batch = whole.next()) {
                    int[] expected = sorted(indices(batch));
                    int[] together = sorted(concat(indices(rank0.next()), indices(rank1.next())));
                    assertArrayEquals(expected, together, "epoch " + epoch);
                }
            }
        }
    }

    @Test
    void evaluationSharesCountEverySampleOnce() {
        InMemoryDataset dataset = DataLoaderTest.indexed(7);
        int[] seen = new int[7];
        for (int rank = 0; rank < 3; rank++) {
            try (DataLoader loader = new DataLoader(dataset, 2, false, false, 0, null, null, false,
                    new DataShard(rank, 3, false))) {
                for (int index : DataLoaderTest.epochOrder(loader, 0)) {
                    seen[index]++;
                }
            }
        }
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1}, seen);
        // A share with nothing in it has no batches (more ranks than samples).
        try (DataLoader empty = new DataLoader(DataLoaderTest.indexed(2), 4, false, false, 0, null, null, false,
                new DataShard(2, 3, false))) {
            empty.startEpoch(0);
            assertEquals(0, empty.batchesPerEpoch());
            assertTrue(empty.next() == null);
        }
    }

    private static int[] indices(Batch batch) {
        int[] indices = new int[batch.size()];
        for (int s = 0; s < batch.size(); s++) {
            int low = Math.round(batch.images().getAtIndex(ValueLayout.JAVA_FLOAT, 2L * s) * 255);
            int high = Math.round(batch.images().getAtIndex(ValueLayout.JAVA_FLOAT, 2L * s + 1) * 255);
            indices[s] = low + 256 * high;
        }
        return indices;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static int[] sorted(int[] values) {
        int[] copy = values.clone();
        Arrays.sort(copy);
        return copy;
    }
}
