package dev.isthmus.train;

/** Training produced a NaN or infinite loss; names where, and the first layer whose output went bad. */
public final class TrainingDivergedException extends RuntimeException {
    /** The epoch of the bad step. */
    private final int epoch;
    /** The bad step within its epoch. */
    private final int step;
    /** The first layer whose output was not finite, or null. */
    private final String firstBadLayer;

    /**
     * Training stopped at a NaN or infinite loss.
     *
     * @param epoch the epoch, from 1
     * @param step the step, from 1
     * @param loss the loss
     * @param checkpointNote where the last good checkpoint is, or an empty string
     * @param firstBadLayer the first layer (in forward order) whose output was not finite, or null
     */
    public TrainingDivergedException(int epoch, int step, float loss, String firstBadLayer, String checkpointNote) {
        super("training diverged: loss is " + loss + " at epoch " + epoch + ", step " + step
                + (firstBadLayer != null ? "; the first layer whose output is not finite is " + firstBadLayer
                        : "; every layer's output is finite, so the loss itself overflowed")
                + ". HINT: lower the learning rate or clip gradients (--clip-norm)." + checkpointNote);
        this.epoch = epoch;
        this.step = step;
        this.firstBadLayer = firstBadLayer;
    }

    /** {@return the epoch of the bad step (from 1)} */
    public int epoch() {
        return epoch;
    }

    /** {@return the bad step within its epoch (from 1)} */
    public int step() {
        return step;
    }

    /**
     * The qualified name of the first layer (in forward order) whose output had a NaN or infinity, or null.
     *
     * @return the qualified name of the first layer (in forward order) whose output had a NaN or infinity, or null
     */
    public String firstBadLayer() {
        return firstBadLayer;
    }
}
