package dev.isthmus.train;

/**
 * One training step as listeners hear of it: epoch (from 1), step within the epoch (from 1) of
 * {@code batches}, the batch's size and its mean loss (read on the host).
 *
 * @param epoch the epoch, from 1
 * @param step the step within the epoch, from 1
 * @param batches the batches in the epoch
 * @param batchSize the samples per batch
 * @param loss the batch's mean loss
 */
public record StepResult(int epoch, int step, int batches, int batchSize, float loss) {
}
