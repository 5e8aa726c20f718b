package dev.isthmus.train;

/**
 * Something that takes part in training without being the step itself (DJL's TrainingListener,
 * Keras's Callback): the learning-rate schedule, the NaN guard, checkpoints, progress and early
 * stopping are all listeners, installed from {@link TrainingConfig} and changed with
 * {@link Trainer#addListener} and {@link Trainer#removeListener}. Events come in this order:
 * training begin, then per epoch: epoch begin, one step event per batch, epoch end (after
 * validation, with the trainer's state already counting the epoch); then training end (not
 * reached when a listener throws). Listeners are called in the order they were added. To end
 * training, call {@link Trainer#requestStop}: the epoch in progress finishes, then training ends.
 */
public interface TrainingListener {
    /**
     * Once, before the first epoch.
     *
     * @param trainer the trainer
     */
    default void onTrainingBegin(Trainer trainer) {
    }

    /**
     * When an epoch begins.
     *
     * @param epoch counted from 1
     * @param trainer the trainer
     */
    default void onEpochBegin(Trainer trainer, int epoch) {
    }

    /**
     * After every training step.
     *
     * @param trainer the trainer
     * @param step the step, from 1
     */
    default void onStep(Trainer trainer, StepResult step) {
    }

    /**
     * After every epoch, its evaluation included.
     *
     * @param trainer the trainer
     * @param result the epoch's figures
     */
    default void onEpochEnd(Trainer trainer, EpochResult result) {
    }

    /**
     * Once, when training ends (normally, stopped, or failed).
     *
     * @param trainer the trainer
     */
    default void onTrainingEnd(Trainer trainer) {
    }
}
