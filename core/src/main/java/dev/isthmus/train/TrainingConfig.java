package dev.isthmus.train;

import dev.isthmus.data.Augmentation;
import dev.isthmus.data.Normalization;
import dev.isthmus.optim.LrSchedule;

import java.nio.file.Path;

/**
 * How to train: epochs, batch size, seed, learning-rate schedule (applied per epoch to the
 * optimizer's base rate), gradient-norm clipping (0: off), early stopping on validation accuracy
 * (patience 0: off), a checkpoint written after every epoch (null: none), the top-k accuracy
 * reported besides top-1, where progress goes, and the input pipeline: normalisation (null: pixels
 * in [0, 1]) for training and evaluation, augmentation (null: none) for training only. A
 * {@link Trainer} installs its default listeners from it ({@link Trainer#defaultListeners}).
 *
 * @param epochs the number of epochs
 * @param batchSize the samples per batch
 * @param seed the seed for the initial shuffle and every random draw of training
 * @param schedule the learning-rate schedule (null: constant)
 * @param clipNorm the global L2 norm gradients are clipped to (0: no clipping)
 * @param earlyStoppingPatience the epochs without improvement that stop training (0: never)
 * @param checkpoint the file a checkpoint is written to after every epoch (null: none)
 * @param topK the k of the top-k accuracy
 * @param progress where progress goes (null: nowhere)
 * @param normalization the normalisation for training and evaluation (null: pixels in [0, 1])
 * @param augmentation the training-time augmentation (null: none)
 */
public record TrainingConfig(int epochs, int batchSize, long seed, LrSchedule schedule, double clipNorm,
                             int earlyStoppingPatience, Path checkpoint, int topK, Progress progress,
                             Normalization normalization, Augmentation augmentation) {

    /** Validates the configuration; a null schedule is constant, a null progress silent. */
    public TrainingConfig {
        if (epochs <= 0) {
            throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        }
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("gradient clip norm must be finite and >= 0, got " + clipNorm);
        }
        if (earlyStoppingPatience < 0) {
            throw new IllegalArgumentException("early-stopping patience must be >= 0, got " + earlyStoppingPatience);
        }
        if (topK <= 0) {
            throw new IllegalArgumentException("top-k must be > 0, got " + topK);
        }
        if (schedule == null) {
            schedule = LrSchedule.constant();
        }
        if (progress == null) {
            progress = Progress.SILENT;
        }
    }

    /**
     * Plain SGD-style training: constant rate, no clipping, no early stopping, no checkpoints.
     *
     * @param epochs the number of epochs
     * @param batchSize the samples per batch
     * @param seed the seed for the initial shuffle and every random draw of training
     * @return the configuration
     */
    public static TrainingConfig of(int epochs, int batchSize, long seed) {
        return new TrainingConfig(epochs, batchSize, seed, LrSchedule.constant(), 0, 0, null, 5, Progress.SILENT, null, null);
    }

    /**
     * {@return this configuration, saving a checkpoint to {@code file} after every epoch}
     *
     * @param file the file
     */
    public TrainingConfig withCheckpoint(Path file) {
        return new TrainingConfig(epochs, batchSize, seed, schedule, clipNorm, earlyStoppingPatience, file, topK, progress,
                normalization, augmentation);
    }

    /**
     * {@return this configuration, reporting progress to {@code output}}
     *
     * @param output the output
     */
    public TrainingConfig withProgress(Progress output) {
        return new TrainingConfig(epochs, batchSize, seed, schedule, clipNorm, earlyStoppingPatience, checkpoint, topK, output,
                normalization, augmentation);
    }

    /**
     * {@return this configuration with {@code count} epochs}
     *
     * @param count how many
     */
    public TrainingConfig withEpochs(int count) {
        return new TrainingConfig(count, batchSize, seed, schedule, clipNorm, earlyStoppingPatience, checkpoint, topK, progress,
                normalization, augmentation);
    }
}
