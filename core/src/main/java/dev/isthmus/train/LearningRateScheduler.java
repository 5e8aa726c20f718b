package dev.isthmus.train;

import dev.isthmus.optim.LrSchedule;

/** Sets the optimizer's rate from the schedule and the base rate at the start of every epoch. */
public final class LearningRateScheduler implements TrainingListener {
    private final LrSchedule schedule;

    /**
     * Sets the optimizer's rate from {@code schedule} at the start of every epoch.
     *
     * @param schedule the learning-rate schedule (null: constant)
     */
    public LearningRateScheduler(LrSchedule schedule) {
        if (schedule == null) {
            throw new IllegalArgumentException("LearningRateScheduler: schedule is required");
        }
        this.schedule = schedule;
    }

    @Override
    public void onEpochBegin(Trainer trainer, int epoch) {
        // Schedules count epochs from 0, as PyTorch's do.
        trainer.optimizer().setLearningRate(schedule.learningRate(trainer.state().baseLearningRate(), epoch - 1));
    }
}
