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
        StringBuilder text = new StringBuilder(String.format("epoch %d: train loss %.4f acc %s", r.epoch(), r.trainLoss(),
                percent(r.trainAccuracy())));
        if (r.validation() != null) {
            text.append(String.format(" | test loss %.4f acc %s", r.validation().loss(), percent(r.validation().accuracy())));
        }
        return text.append(String.format(" | %,.0f img/s, %.1f s, lr %.4g", r.imagesPerSecond(), r.seconds(), r.learningRate()))
                .toString();
    }

    static String percent(double fraction) {
        return String.format("%.2f%%", 100 * fraction);
    }
}
