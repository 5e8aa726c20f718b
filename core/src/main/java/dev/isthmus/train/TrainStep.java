package dev.isthmus.train;

import dev.isthmus.data.Batch;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.loss.Loss;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * One training step, the only place it is written: zero the gradients, forward, loss, backward,
 * gradient averaging over the {@linkplain #processGroup(ProcessGroup) process group} (data-parallel), clip (clip_grad_norm_, when asked), optimizer update. The trainer, its evaluation (the
 * forward-only part) and the step benchmark all run this, so what is measured is what trains.
 * Nothing is read on the host: the loss comes back as a device tensor, and accuracy can be counted
 * into a device counter, so on a GPU the caller decides when to wait.
 */
public final class TrainStep implements AutoCloseable {
    /** The parts of a step, in order, as reported to a {@link PhaseObserver}. */
    public enum Phase {
        /** Gradients zeroed and the training forward done. */
        FORWARD,
        /** Loss (and its gradient) computed, and accuracy counted when asked. */
        LOSS,
        /** Gradients back-propagated. */
        BACKWARD,
        /** Gradients clipped when asked, and the optimizer's update applied. */
        UPDATE
    }

    /** Told as each phase of a step finishes: the benchmark's breakdown synchronises and times there. */
    @FunctionalInterface
    public interface PhaseObserver {
        /**
         * One phase has finished.
         *
         * @param phase the phase that finished
         */
        void finished(Phase phase);
    }

    private final Model model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final double clipNorm;
    private final LossScaler lossScaler;
    private final List<Tensor> gradients = new ArrayList<>();
    // Scanned, not a map: finding the batch of a size must not box the size every step.
    private final List<DeviceBatch> batches = new ArrayList<>(2);
    private Tensor logits;
    private ProcessGroup processGroup;

    /**
     * A step of {@code model} with {@code loss} and {@code optimizer}.
     *
     * @param optimizer null for a step that only evaluates
     * @param clipNorm  the global L2 norm gradients are clipped to before the update; 0: no clipping
     * @param model the model trained
     * @param loss the loss
     */
    public TrainStep(Model model, Loss loss, Optimizer optimizer, double clipNorm) {
        this(model, loss, optimizer, clipNorm, model != null && model.precision().needsLossScaling() ? new LossScaler() : null);
    }

    /**
     * A step with an explicit loss scaler.
     *
     * @param model      the model, built
     * @param loss       the loss
     * @param optimizer  null for a step that only evaluates
     * @param clipNorm   the global L2 norm gradients are clipped to before the update; 0: no clipping
     * @param lossScaler dynamic loss scaling (FP16 needs it; the short constructor makes one when
     *                   the model's precision does); null: none
     */
    public TrainStep(Model model, Loss loss, Optimizer optimizer, double clipNorm, LossScaler lossScaler) {
        if (model == null || loss == null) {
            throw new IllegalArgumentException("TrainStep: model and loss are required");
        }
        if (model.device() == null) {
            throw new IllegalStateException("TrainStep: build " + model.name() + " on a device first");
        }
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("TrainStep: gradient clip norm must be finite and >= 0, got " + clipNorm);
        }
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.clipNorm = clipNorm;
        this.lossScaler = lossScaler;
        if (lossScaler != null && optimizer != null) {
            // One block when the model planned its gradients (one reduction), else each parameter's.
            Tensor block = model.gradientBlock();
            if (block != null && optimizer.parameters().size() == model.parameters().size()) {
                gradients.add(block);
            } else {
                for (Parameter parameter : optimizer.parameters()) {
                    gradients.add(parameter.grad());
                }
            }
        }
    }

    /**
     * Makes every step average its gradients over {@code group} between backward and the update
     * (data-parallel training); null: a step of this process alone.
     *
     * @param group the processes training together, or null
     * @return this step
     */
    public TrainStep processGroup(ProcessGroup group) {
        this.processGroup = group;
        return this;
    }

    /** {@return the processes this step averages gradients over, or null} */
    public ProcessGroup processGroup() {
        return processGroup;
    }

    /** {@return the loss scaler (FP16), or null} */
    public LossScaler lossScaler() {
        return lossScaler;
    }

    /**
     * This step's device batch of the host batch's size (made on first use), with the batch copied in.
     *
     * @param batch the batch
     * @return this step's device batch of the host batch's size (made on first use), with the batch copied in
     */
    public DeviceBatch copyIn(Batch batch) {
        int size = batch.size();
        for (int i = 0; i < batches.size(); i++) {
            DeviceBatch candidate = batches.get(i);
            if (candidate.size() == size && candidate.labels().shape().equals(batch.labelShape())) {
                return candidate.copyFrom(batch);
            }
        }
        Shape labels = batch.labelShape();
        int[] perSample = java.util.Arrays.copyOfRange(labels.dims(), 1, labels.rank());
        DeviceBatch made = DeviceBatch.allocate(model, size, Shape.of(perSample));
        batches.add(made);
        return made.copyFrom(batch);
    }

    /**
     * A training step on {@code batch}; returns the loss, a one-element device tensor (read it when needed).
     *
     * @param batch the batch
     * @return the loss, a one-element device tensor (read it when needed)
     */
    public Tensor train(DeviceBatch batch) {
        return train(batch, null, null);
    }

    /**
     * A training step that also adds its top-1 hits to {@code correct} (I32, one element) before
     * backward; for a batch with a class per pixel, {@code correct} is a segmentation counts vector
     * (I32 [2 + 3·C], see {@link dev.isthmus.device.ReductionKernels#countSegmentation}).
     *
     * @param batch the batch
     * @param correct unless null, an I32 device counter the step's top-1 hits (or pixel counts) are added to
     * @return the loss, a one-element device tensor
     */
    public Tensor train(DeviceBatch batch, Tensor correct) {
        return train(batch, correct, null);
    }

    /**
     * A training step, telling {@code phases} (unless null) as each part finishes.
     *
     * @param correct unless null, an I32 device counter the step's top-1 hits are added to (for a
     *                batch with a class per pixel, the I32 [2 + 3·C] counts of
     *                {@link dev.isthmus.device.ReductionKernels#countSegmentation})
     * @param batch the batch
     * @param phases told as each phase finishes, or null
     * @return the loss, a one-element device tensor
     */
    public Tensor train(DeviceBatch batch, Tensor correct, PhaseObserver phases) {
        if (optimizer == null) {
            throw new IllegalStateException("TrainStep: this step has no optimizer; it only evaluates");
        }
        optimizer.zeroGrad();
        logits = model.forward(batch.input(), true);
        if (phases != null) {
            phases.finished(Phase.FORWARD);
        }
        loss.observeBatch(batch.input());
        Tensor value = loss.forward(logits, batch.labels(), true);
        if (correct != null) {
            count(logits, batch, correct);
        }
        if (phases != null) {
            phases.finished(Phase.LOSS);
        }
        Tensor lossGradient = loss.backward();
        if (lossScaler != null) {
            lossScaler.scaleLossGradient(model.device(), lossGradient);
        }
        model.backward(lossGradient);
        if (processGroup != null) {
            processGroup.averageGradients(model);
        }
        if (phases != null) {
            phases.finished(Phase.BACKWARD);
        }
        // With loss scaling, a step whose scaled gradients overflowed is skipped (GradScaler.step).
        if (lossScaler == null || lossScaler.unscale(model.device(), gradients)) {
            if (clipNorm > 0) {
                clipGradients();
            }
            optimizer.step();
        }
        if (phases != null) {
            phases.finished(Phase.UPDATE);
        }
        return value;
    }

    /**
     * The eval-mode forward: returns the logits.
     *
     * @param batch the batch
     * @return the eval-mode forward: returns the logits
     */
    public Tensor infer(DeviceBatch batch) {
        return logits = model.forward(batch.input(), false);
    }

    /**
     * The eval-mode forward and the loss, without its gradient; returns the loss, a one-element device tensor.
     *
     * @param batch the batch
     * @return the loss, a one-element device tensor
     */
    public Tensor evaluate(DeviceBatch batch) {
        Tensor output = infer(batch);
        loss.observeBatch(batch.input());
        return loss.forward(output, batch.labels(), false);
    }

    /**
     * Adds the batch's hits to {@code counter}: top-1 hits of a class per sample (one I32), or the
     * pixel counts of a class per pixel (I32 [2 + 3·C]), pixels the loss ignores left out.
     *
     * @param logits the logits of the batch, [n, C] or [n, C, H, W]
     * @param batch the batch
     * @param counter the device counter added to
     */
    public void count(Tensor logits, DeviceBatch batch, Tensor counter) {
        if (batch.perPixel()) {
            model.device().reductions().countSegmentation(logits, batch.labels(), ignoreIndex(), counter);
        } else {
            model.device().reductions().countCorrect(logits, batch.labels(), 1, counter);
        }
    }

    /** {@return the label the loss skips (PyTorch's -100 unless the cross-entropy says otherwise)} */
    public int ignoreIndex() {
        return loss instanceof CrossEntropyLoss crossEntropy ? crossEntropy.ignoreIndex() : CrossEntropyLoss.DEFAULT_IGNORE_INDEX;
    }

    /**
     * The logits of the last forward (valid until the next one), or null before the first.
     *
     * @return the logits of the last forward (valid until the next one), or null before the first
     */
    public Tensor logits() {
        return logits;
    }

    /** {@return the model the step trains} */
    public Model model() {
        return model;
    }

    /**
     * Scales every gradient by maxNorm / ‖g‖ when the global L2 norm ‖g‖ exceeds maxNorm
     * (clip_grad_norm_). It sits between backward and the update, so it is part of the step
     * rather than a listener, which only hears about whole steps.
     */
    private void clipGradients() {
        double squares = 0;
        for (Parameter parameter : optimizer.parameters()) {
            squares += model.device().reductions().sumOfSquares(parameter.grad());
        }
        double norm = Math.sqrt(squares);
        if (norm > clipNorm) {
            float factor = (float) (clipNorm / (norm + 1e-6));
            for (Parameter parameter : optimizer.parameters()) {
                model.device().blas().scale(parameter.grad(), factor);
            }
        }
    }

    /** Frees the device batches this step made (the model, loss and optimizer belong to the caller). */
    @Override
    public void close() {
        for (DeviceBatch batch : batches) {
            batch.close();
        }
        batches.clear();
        logits = null;
    }
}
