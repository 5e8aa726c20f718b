package dev.isthmus.train;

/** Loss and accuracy over a dataset. */
public record Evaluation(double loss, double accuracy, double topKAccuracy, int topK, int samples) {
}
