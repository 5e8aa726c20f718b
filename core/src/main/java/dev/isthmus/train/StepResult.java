package dev.isthmus.train;

/**
 * One training step as listeners hear of it: epoch (from 1), step within the epoch (from 1) of
 * {@code batches}, the batch's size and its mean loss (read on the host).
 */
public record StepResult(int epoch, int step, int batches, int batchSize, float loss) {
}
