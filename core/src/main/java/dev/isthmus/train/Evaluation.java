package dev.isthmus.train;

/**
 * Loss and accuracy over a dataset.
 *
 * @param loss the mean loss
 * @param accuracy the top-1 accuracy, in [0, 1]
 * @param topKAccuracy the top-k accuracy, in [0, 1]
 * @param topK the k of the top-k accuracy
 * @param samples the samples evaluated
 */
public record Evaluation(double loss, double accuracy, double topKAccuracy, int topK, int samples) {
}
