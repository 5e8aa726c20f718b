package dev.isthmus.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where training stands: epochs completed, optimizer steps taken, the base learning rate (what
 * the schedule scales) and the current one, the best validation accuracy so far (−∞ before any)
 * and how many epochs have passed without improving it. The part a resume needs is written to
 * checkpoints under the keys {@code isthmus train} has always used.
 *
 * @param completedEpochs the epochs completed
 * @param steps optimizer steps taken
 * @param baseLearningRate the base learning rate (what the schedule scales)
 * @param learningRate the base learning rate
 * @param bestAccuracy the best validation accuracy so far, or null
 * @param epochsWithoutImprovement the epochs since the best validation accuracy
 */
public record TrainingState(int completedEpochs, int steps, double baseLearningRate, double learningRate,
                            double bestAccuracy, int epochsWithoutImprovement) {

    /**
     * The checkpoint's {@code training} entry: completed_epochs, best_accuracy (null before any
     * validation), epochs_without_improvement, seed, batch_size and base_lr, in that order.
     *
     * @param config the training configuration
     * @return the checkpoint's {@code training} entry: completed_epochs, best_accuracy (null before any validation), epochs_without_improvement, seed, batch_size and base_lr, in that order
     */
    public Map<String, Object> toCheckpoint(TrainingConfig config) {
        Map<String, Object> entries = new LinkedHashMap<>();
        entries.put("completed_epochs", completedEpochs);
        entries.put("best_accuracy", Double.isFinite(bestAccuracy) ? bestAccuracy : null);
        entries.put("epochs_without_improvement", epochsWithoutImprovement);
        entries.put("seed", config.seed());
        entries.put("batch_size", config.batchSize());
        entries.put("base_lr", baseLearningRate);
        return entries;
    }

    /**
     * This state with the position saved in a checkpoint's {@code training} entry: its completed
     * epochs, and its best accuracy and patience count where it has them. The rates and step count
     * are not taken from it (the optimizer's own state restores the steps).
     *
     * @param saved the checkpoint's {@code training} entry
     * @param checkpoint the checkpoint file
     * @return this state with the position saved in a checkpoint's {@code training} entry: its completed epochs, and its best accuracy and patience count where it has them
     */
    public TrainingState resumedFrom(Map<String, Object> saved, Path checkpoint) {
        if (!(saved.get("completed_epochs") instanceof Number epochs)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " has no training position (was it saved by "
                    + "`isthmus train`?); load it as weights instead");
        }
        double best = saved.get("best_accuracy") instanceof Number number ? number.doubleValue() : bestAccuracy;
        int waiting = saved.get("epochs_without_improvement") instanceof Number number ? number.intValue()
                : epochsWithoutImprovement;
        return new TrainingState(epochs.intValue(), steps, baseLearningRate, learningRate, best, waiting);
    }
}
