package dev.isthmus.train;

import dev.isthmus.nn.Model;

/**
 * The processes a data-parallel {@link Trainer} trains with, as torch.distributed's process group
 * under DistributedDataParallel: each process holds a whole copy of the model and reads its own
 * share of every epoch ({@link dev.isthmus.data.DataShard}); the group makes the copies start
 * equal and stay equal by averaging the gradients of every step, and adds up the figures the
 * trainer reports. The MPI implementation is {@code dev.isthmus.distributed.MpiProcessGroup}.
 *
 * <p>Every method is a collective: all ranks call it, in the same order, or the job waits.
 */
public interface ProcessGroup extends dev.isthmus.nn.SumAcrossProcesses {
    /** {@return this process's index, 0 ≤ rank &lt; size} */
    int rank();

    /** {@return the number of processes} */
    int size();

    /**
     * Before the first step: checks that every rank was started with the same configuration,
     * copies rank 0's parameters and buffers to every rank, and prepares the gradient averaging
     * for {@code model} (e.g. hooks that start reducing a bucket as soon as backward has filled it).
     *
     * @param model the model, built, that every rank trains
     * @param configuration what the ranks must agree on, e.g. "lenet5 batch 32 seed 1 ..."; compared across ranks
     */
    void join(Model model, String configuration);

    /**
     * After backward, before the optimizer's step: replaces every rank's gradients with their mean
     * over the ranks.
     *
     * @param model the model whose gradients are averaged
     */
    void averageGradients(Model model);

    /**
     * Copies rank 0's buffers (batch-norm running statistics) to every rank: before evaluation, so
     * every rank evaluates, and rank 0 checkpoints, the same model (DistributedDataParallel
     * broadcasts them from rank 0 before every forward; the model evaluated is the same).
     *
     * @param model the model
     */
    void broadcastBuffers(Model model);

    /**
     * Adds {@code values} up over the ranks, in place: the trainer's loss sums, sample counts and hits.
     *
     * @param values this rank's values; every rank's sum on return
     */
    @Override
    void sum(double[] values);

    /**
     * What gradient averaging has cost so far, for the progress line (e.g. the all-reduce time per
     * step and how much of it backward hid); null when there is nothing to say.
     *
     * @return a short description, or null
     */
    default String communicationSummary() {
        return null;
    }
}
