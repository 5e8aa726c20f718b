package dev.isthmus.train;

/**
 * Reports training to a {@link Progress}: after every step the running mean loss and images/s of
 * the epoch, after every epoch its summary line, and at the end why training stopped early.
 */
public final class ProgressReporter implements TrainingListener {
    private final Progress progress;
    private long epochStart;
    private double lossSum;
    private long seen;

    /**
     * Sends batches and epochs to {@code progress}.
     *
     * @param progress where progress goes (null: nowhere)
     */
    public ProgressReporter(Progress progress) {
        if (progress == null) {
            throw new IllegalArgumentException("ProgressReporter: progress is required");
        }
        this.progress = progress;
    }

    @Override
    public void onEpochBegin(Trainer trainer, int epoch) {
        epochStart = System.nanoTime();
        lossSum = 0;
        seen = 0;
    }

    @Override
    public void onStep(Trainer trainer, StepResult step) {
        lossSum += (double) step.loss() * step.batchSize();
        seen += step.batchSize();
        double seconds = (System.nanoTime() - epochStart) / 1e9;
        progress.batch(new Progress.Status(step.epoch(), trainer.config().epochs(), step.step(), step.batches(),
                step.batchSize(), lossSum / seen, seen / seconds));
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochResult result) {
        progress.epochEnd(summary(result));
    }

    @Override
    public void onTrainingEnd(Trainer trainer) {
        if (trainer.stopReason() != null) {
            progress.epochEnd(trainer.stopReason());
        }
    }

    static String summary(EpochResult r) {
        // A segmentation's accuracy is of pixels; its line says so and adds the Dice.
        String accuracy = r.hasDice() ? "pixel acc" : "acc";
        StringBuilder text = new StringBuilder(String.format("epoch %d: train loss %.4f %s %s", r.epoch(), r.trainLoss(),
                accuracy, percent(r.trainAccuracy())));
        if (r.hasDice()) {
            text.append(String.format(" dice %.4f", r.trainDice()));
        }
        if (r.validation() != null) {
            text.append(String.format(" | test loss %.4f %s %s", r.validation().loss(), accuracy,
                    percent(r.validation().accuracy())));
            if (r.validation().hasDice()) {
                text.append(String.format(" dice %.4f", r.validation().dice()));
            }
        }
        return text.append(String.format(" | %,.0f img/s, %.1f s, lr %.4g", r.imagesPerSecond(), r.seconds(), r.learningRate()))
                .toString();
    }

    static String percent(double fraction) {
        return String.format("%.2f%%", 100 * fraction);
    }
}
