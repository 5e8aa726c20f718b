package dev.isthmus.distributed;

/**
 * This rank's share of an epoch's order, exactly as PyTorch's {@code DistributedSampler}: every
 * rank shuffles the same order (same seed and epoch), then rank r takes positions r, r+N, r+2N, ...
 * So that every rank runs the same number of steps (a collective waits for all of them), the order
 * is first made a multiple of N: without dropLast it is padded by repeating its start, with
 * dropLast its tail is cut.
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
        if (dropLast && datasetSize % ranks != 0) {
            return (datasetSize - ranks + ranks - 1) / ranks; // ceil((n - N) / N), n > N here or 0
        }
        return (datasetSize + ranks - 1) / ranks;
    }

    /**
     * Rank {@code rank}'s indices, in order, from the epoch's shared {@code order}.
     *
     * @param order the order
     * @param rank the rank
     * @param ranks the ranks
     * @param dropLast the drop last
     * @throws IllegalArgumentException when the rank is not in [0, ranks), or padding is needed but the order is empty
     * @return the select
     */
    public static int[] select(int[] order, int rank, int ranks, boolean dropLast) {
        if (rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("DistributedShard: rank " + rank + " is not in [0, " + ranks + ")");
        }
        int perRank = Math.max(0, samplesPerRank(order.length, ranks, dropLast));
        long total = (long) perRank * ranks;
        if (total > order.length && order.length == 0) {
            throw new IllegalArgumentException("DistributedShard: cannot pad an empty order to " + total);
        }
        int[] mine = new int[perRank];
        for (int k = 0; k < perRank; k++) {
            long position = rank + (long) k * ranks;
            // Padding repeats the order from its start (cyclically if it must grow more than once).
            mine[k] = order[(int) (position % order.length)];
        }
        return mine;
    }
}
