package dev.isthmus.nn;

/**
 * Adds values up over the processes of a data-parallel job, in place: what a layer that needs
 * statistics of the whole global batch calls ({@link BatchNorm#synchronize}, SyncBatchNorm).
 * A collective: every process calls it at the same point with as many values.
 */
@FunctionalInterface
public interface SumAcrossProcesses {
    /**
     * Replaces {@code values} with their sums over the processes.
     *
     * @param values this process's values; the sums on return
     */
    void sum(double[] values);
}
