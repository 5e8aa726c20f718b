package dev.isthmus.train;

/** Training produced a NaN or infinite loss; names where, and the first layer whose output went bad. */
public final class TrainingDivergedException extends RuntimeException {
    private final int epoch;
    private final int step;
    private final String firstBadLayer;

    public TrainingDivergedException(int epoch, int step, float loss, String firstBadLayer, String checkpointNote) {
        super("training diverged: loss is " + loss + " at epoch " + epoch + ", step " + step
                + (firstBadLayer != null ? "; the first layer whose output is not finite is " + firstBadLayer
                        : "; every layer's output is finite, so the loss itself overflowed")
                + ". HINT: lower the learning rate or clip gradients (--clip-norm)." + checkpointNote);
        this.epoch = epoch;
        this.step = step;
        this.firstBadLayer = firstBadLayer;
    }

    public int epoch() {
        return epoch;
    }

    public int step() {
        return step;
    }

    /** The qualified name of the first layer (in forward order) whose output had a NaN or infinity, or null. */
    public String firstBadLayer() {
        return firstBadLayer;
    }
}
