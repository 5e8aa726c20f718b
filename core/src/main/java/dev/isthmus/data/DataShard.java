package dev.isthmus.data;

/**
 * Which part of every epoch's order one process of a data-parallel job reads, as PyTorch's
 * {@code DistributedSampler}: all processes shuffle the same order (same seed and epoch), then
 * rank r takes positions r, r+N, r+2N, ... of it. So two processes with batch 32 see, step by
 * step, exactly the 64 samples one process with batch 64 would see.
 *
 * <p>For training the shard is {@linkplain #padded padded}: every rank gets ceil(n/N) samples,
 * the order repeating from its start where it runs out (DistributedSampler with drop_last=False),
 * because every rank must run the same number of steps (each step ends in a collective). For
 * evaluation it is not: rank r gets the positions below n, so no sample is counted twice when the
 * per-rank sums are added up.
 *
 * @param rank   this process's index, 0 ≤ rank &lt; ranks
 * @param ranks  the number of processes
 * @param padded every rank gets the same number of samples, by repeating the order's start
 */
public record DataShard(int rank, int ranks, boolean padded) {
    /** One process reading everything. */
    public static final DataShard WHOLE = new DataShard(0, 1, false);

    /**
     * Checks the rank is in range.
     *
     * @param rank   this process's index
     * @param ranks  the number of processes
     * @param padded whether every rank gets the same number of samples
     */
    public DataShard {
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("DataShard: rank " + rank + " of " + ranks + " (need 0 <= rank < ranks)");
        }
    }

    /**
     * How many samples of a dataset of {@code datasetSize} this rank reads per epoch.
     *
     * @param datasetSize the samples in the dataset
     * @return ceil(n/N) when padded, else how many of r, r+N, ... are below n
     */
    public int size(int datasetSize) {
        if (datasetSize < 0) {
            throw new IllegalArgumentException("DataShard: dataset size " + datasetSize + " < 0");
        }
        if (padded) {
            return (int) ((datasetSize + (long) ranks - 1) / ranks);
        }
        return datasetSize <= rank ? 0 : (int) ((datasetSize - (long) rank + ranks - 1) / ranks);
    }

    /**
     * The position in the epoch's whole order of this rank's {@code k}-th sample.
     *
     * @param k           the sample's index within this rank's share
     * @param datasetSize the samples in the dataset (padding wraps around it)
     * @return rank + k·ranks, modulo the dataset size
     */
    public int globalPosition(int k, int datasetSize) {
        return (int) ((rank + (long) k * ranks) % datasetSize);
    }
}
