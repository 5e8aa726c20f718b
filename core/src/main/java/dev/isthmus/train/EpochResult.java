package dev.isthmus.train;

/** One epoch's figures: training loss and accuracy, validation evaluation, speed and the rate used. */
public record EpochResult(int epoch, double trainLoss, double trainAccuracy, Evaluation validation,
                          double imagesPerSecond, double seconds, double learningRate) {
}
