package dev.isthmus.train;

/**
 * Loss and accuracy over a dataset. For a segmentation set (a class per pixel) the accuracy is the
 * pixel accuracy (top-1, so topK is 1 and topKAccuracy the same), and dice the mean foreground Dice
 * as {@link dev.isthmus.metric.DiceScore} computes it; for a classifier dice is NaN.
 *
 * @param loss the mean loss
 * @param accuracy the top-1 accuracy (of samples, or of pixels), in [0, 1]
 * @param topKAccuracy the top-k accuracy, in [0, 1]
 * @param topK the k of the top-k accuracy
 * @param samples the samples evaluated
 * @param dice the mean foreground Dice of a segmentation, NaN for a classifier (or no foreground)
 */
public record Evaluation(double loss, double accuracy, double topKAccuracy, int topK, int samples, double dice) {
    /**
     * A classifier's evaluation: no Dice.
     *
     * @param loss the mean loss
     * @param accuracy the top-1 accuracy, in [0, 1]
     * @param topKAccuracy the top-k accuracy, in [0, 1]
     * @param topK the k of the top-k accuracy
     * @param samples the samples evaluated
     */
    public Evaluation(double loss, double accuracy, double topKAccuracy, int topK, int samples) {
        this(loss, accuracy, topKAccuracy, topK, samples, Double.NaN);
    }

    /** {@return whether a Dice score was measured (a segmentation with foreground)} */
    public boolean hasDice() {
        return !Double.isNaN(dice);
    }
}
