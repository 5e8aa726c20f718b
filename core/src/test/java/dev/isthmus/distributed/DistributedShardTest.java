package dev.isthmus.distributed;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected shards: PyTorch 1.13's DistributedSampler, from make_fixtures_distributed.py's output. */
class DistributedShardTest {
    @Test
    void matchesPytorchsDistributedSampler() {
        check(10, 3, false, new int[][]{{0, 3, 6, 9}, {1, 4, 7, 0}, {2, 5, 8, 1}});
        check(10, 3, true, new int[][]{{0, 3, 6}, {1, 4, 7}, {2, 5, 8}});
        check(2, 4, false, new int[][]{{0}, {1}, {0}, {1}});
        check(7, 2, true, new int[][]{{0, 2, 4}, {1, 3, 5}});
        check(5, 1, false, new int[][]{{0, 1, 2, 3, 4}});
        check(3, 2, true, new int[][]{{0}, {1}});
        check(64, 2, false, new int[][]{IntStream.range(0, 32).map(k -> 2 * k).toArray(),
                IntStream.range(0, 32).map(k -> 2 * k + 1).toArray()});
    }

    @Test
    void shardsTheSharedShuffledOrderNotTheDatasetOrder() {
        int[] order = {9, 4, 7, 0, 2};
        assertArrayEquals(new int[]{9, 7, 2}, DistributedShard.select(order, 0, 2, false));
        assertArrayEquals(new int[]{4, 0, 9}, DistributedShard.select(order, 1, 2, false));
    }

    @Test
    void refusesARankOutsideTheWorld() {
        assertThrows(IllegalArgumentException.class, () -> DistributedShard.select(new int[4], 2, 2, false));
        assertThrows(IllegalArgumentException.class, () -> DistributedShard.select(new int[4], -1, 2, false));
        assertThrows(IllegalArgumentException.class, () -> DistributedShard.samplesPerRank(4, 0, false));
    }

    private static void check(int size, int ranks, boolean dropLast, int[][] expected) {
        int[] identity = IntStream.range(0, size).toArray();
        for (int rank = 0; rank < ranks; rank++) {
            assertArrayEquals(expected[rank], DistributedShard.select(identity, rank, ranks, dropLast),
                    "n=" + size + " ranks=" + ranks + " dropLast=" + dropLast + " rank=" + rank);
        }
    }
}
