package dev.isthmus.train;

/**
 * One epoch's figures: training loss and accuracy, validation evaluation, speed and the rate used.
 *
 * @param epoch the epoch, from 1
 * @param trainLoss the mean training loss
 * @param trainAccuracy the training accuracy, in [0, 1]
 * @param validation the evaluation on the validation set, or null when there was none
 * @param imagesPerSecond the samples processed per second
 * @param seconds the seconds taken
 * @param learningRate the base learning rate
 */
public record EpochResult(int epoch, double trainLoss, double trainAccuracy, Evaluation validation,
                          double imagesPerSecond, double seconds, double learningRate) {
}
