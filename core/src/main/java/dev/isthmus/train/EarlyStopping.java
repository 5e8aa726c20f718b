package dev.isthmus.train;

/** Ends training once validation accuracy has not improved for {@code patience} epochs in a row. */
public final class EarlyStopping implements TrainingListener {
    private final int patience;

    /**
     * Stops after {@code patience} epochs without a better validation accuracy.
     *
     * @param patience the epochs without a better validation accuracy that stop training
     */
    public EarlyStopping(int patience) {
        if (patience <= 0) {
            throw new IllegalArgumentException("EarlyStopping: patience must be > 0, got " + patience);
        }
        this.patience = patience;
    }

    /** {@return the epochs without improvement that stop training} */
    public int patience() {
        return patience;
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochResult result) {
        TrainingState state = trainer.state();
        if (state.epochsWithoutImprovement() >= patience) {
            trainer.requestStop("early stopping: validation accuracy has not improved for "
                    + state.epochsWithoutImprovement() + " epochs (best " + ProgressReporter.percent(state.bestAccuracy()) + ")");
        }
    }
}
