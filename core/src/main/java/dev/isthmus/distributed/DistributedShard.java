package dev.isthmus.distributed;

import dev.isthmus.data.DataShard;

/**
 * This rank's share of an epoch's order, exactly as PyTorch's {@code DistributedSampler}: every
 * rank shuffles the same order (same seed and epoch), then rank r takes positions r, r+N, r+2N, ...
 * So that every rank runs the same number of steps (a collective waits for all of them), the order
 * is first made a multiple of N: without dropLast it is padded by repeating its start, with
 * dropLast its tail is cut.
 *
 * <p>The sharding rule itself is {@link DataShard}'s (what {@code DataLoader} reads); this class
 * applies it to a whole order at once, with torch's signature and its {@code drop_last} option.
 */
public final class DistributedShard {
    private DistributedShard() {
    }

    /**
     * How many samples each rank gets per epoch (torch's {@code num_samples}).
     *
     * @param datasetSize the dataset size
     * @param ranks the ranks
     * @param dropLast the drop last
     * @return the samples per rank
     */
    public static int samplesPerRank(int datasetSize, int ranks, boolean dropLast) {
        if (datasetSize < 0 || ranks < 1) {
            throw new IllegalArgumentException("DistributedShard: dataset size " + datasetSize + " and " + ranks
                    + " ranks (need size >= 0, ranks >= 1)");
        }
        if (dropLast) {
            return datasetSize / ranks; // torch: ceil((n - N) / N) when N does not divide n, which is floor(n / N)
        }
        return new DataShard(0, ranks, true).size(datasetSize);
    }

    /**
     * Rank {@code rank}'s indices, in order, from the epoch's shared {@code order}.
     *
     * @param order the order
     * @param rank the rank
     * @param ranks the ranks
     * @param dropLast the drop last
     * @throws IllegalArgumentException when the rank is not in [0, ranks)
     * @return the select
     */
    public static int[] select(int[] order, int rank, int ranks, boolean dropLast) {
        if (rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("DistributedShard: rank " + rank + " is not in [0, " + ranks + ")");
        }
        DataShard shard = new DataShard(rank, ranks, !dropLast);
        int[] mine = new int[samplesPerRank(order.length, ranks, dropLast)];
        for (int k = 0; k < mine.length; k++) {
            // Padding repeats the order from its start (cyclically if it must grow more than once).
            mine[k] = order[shard.globalPosition(k, order.length)];
        }
        return mine;
    }
}
