package dev.isthmus.train;

/**
 * One epoch's figures: training loss and accuracy, validation evaluation, speed and the rate used.
 * For a segmentation the training accuracy is the pixel accuracy and trainDice the mean foreground
 * Dice of the epoch's training predictions; for a classifier trainDice is NaN.
 *
 * @param epoch the epoch, from 1
 * @param trainLoss the mean training loss
 * @param trainAccuracy the training accuracy (of samples, or of pixels), in [0, 1]
 * @param validation the evaluation on the validation set, or null when there was none
 * @param imagesPerSecond the samples processed per second
 * @param seconds the seconds taken
 * @param learningRate the base learning rate
 * @param trainDice the training Dice of a segmentation, NaN for a classifier
 */
public record EpochResult(int epoch, double trainLoss, double trainAccuracy, Evaluation validation,
                          double imagesPerSecond, double seconds, double learningRate, double trainDice) {
    /**
     * A classifier's epoch: no Dice.
     *
     * @param epoch the epoch, from 1
     * @param trainLoss the mean training loss
     * @param trainAccuracy the training accuracy, in [0, 1]
     * @param validation the evaluation on the validation set, or null when there was none
     * @param imagesPerSecond the samples processed per second
     * @param seconds the seconds taken
     * @param learningRate the base learning rate
     */
    public EpochResult(int epoch, double trainLoss, double trainAccuracy, Evaluation validation,
                       double imagesPerSecond, double seconds, double learningRate) {
        this(epoch, trainLoss, trainAccuracy, validation, imagesPerSecond, seconds, learningRate, Double.NaN);
    }

    /** {@return whether a training Dice was measured (a segmentation with foreground)} */
    public boolean hasDice() {
        return !Double.isNaN(trainDice);
    }
}
