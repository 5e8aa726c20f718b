package dev.isthmus.train;

import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Tensor;

import java.nio.file.Path;
import java.util.Map;

/**
 * The NaN/Inf guard: a step whose loss is not finite ends training with a
 * {@link TrainingDivergedException} naming the epoch, the step, the first layer (in forward order)
 * whose output holds a NaN or infinity, and the last good checkpoint. It reads the layers' outputs
 * of the diverging step, which its backward and update leave in place.
 */
public final class DivergenceGuard implements TrainingListener {
    private final Path checkpoint;

    /**
     * Stops training at the first loss that is NaN or infinite.
     *
     * @param checkpoint where the trainer writes its checkpoints, to point at; may be null
     */
    public DivergenceGuard(Path checkpoint) {
        this.checkpoint = checkpoint;
    }

    @Override
    public void onStep(Trainer trainer, StepResult step) {
        if (!Float.isFinite(step.loss())) {
            throw diverged(trainer, step);
        }
    }

    private TrainingDivergedException diverged(Trainer trainer, StepResult step) {
        Model model = trainer.model();
        String firstBad = null;
        for (Map.Entry<String, Layer> leaf : model.leaves().entrySet()) {
            Tensor output = leaf.getValue().lastOutput();
            if (output != null && model.device().reductions().countNonFinite(output) > 0) {
                firstBad = leaf.getKey() + " (" + leaf.getValue().describe() + ")";
                break;
            }
        }
        int completed = trainer.state().completedEpochs();
        String note = checkpoint != null && completed > 0
                ? " The last good checkpoint, after epoch " + completed + ", is " + checkpoint + "."
                : "";
        return new TrainingDivergedException(step.epoch(), step.step(), step.loss(), firstBad, note);
    }
}
