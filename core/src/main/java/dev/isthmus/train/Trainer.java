package dev.isthmus.train;

import dev.isthmus.data.Batch;
import dev.isthmus.data.DataLoader;
import dev.isthmus.data.Dataset;
import dev.isthmus.device.Device;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.loss.Loss;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop of DESIGN.md §2 for classifiers: batches from a {@link DataLoader} are copied
 * to the device, run forward, through the loss and backward, then the optimizer steps and the
 * gradients are zeroed. Around it: the learning-rate schedule, gradient clipping, a NaN/Inf guard
 * that names the first layer whose output went bad, evaluation, a checkpoint after every epoch,
 * early stopping, and {@link #resume} that continues exactly where a checkpoint stopped (the batch
 * order and dropout masks are pure functions of the seed and the epoch, so nothing else is needed).
 */
public final class Trainer implements AutoCloseable {
    private final Model model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final TrainingConfig config;
    private final double baseLearningRate;
    private final Map<Integer, Tensor[]> inputsBySize = new LinkedHashMap<>();
    private int completedEpochs;
    private double bestAccuracy = Double.NEGATIVE_INFINITY;
    private int epochsWithoutImprovement;
    private float[] logitsOnHost = new float[0];

    public Trainer(Model model, Loss loss, Optimizer optimizer, TrainingConfig config) {
        if (model == null || loss == null || optimizer == null || config == null) {
            throw new IllegalArgumentException("Trainer: model, loss, optimizer and config are required");
        }
        if (model.device() == null) {
            throw new IllegalStateException("Trainer: build " + model.name() + " on a device first");
        }
        this.model = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.config = config;
        this.baseLearningRate = optimizer.learningRate();
    }

    public int completedEpochs() {
        return completedEpochs;
    }

    /** Loads a checkpoint written by this trainer and continues after its last completed epoch. */
    public void resume(Path checkpoint) throws IOException {
        Map<String, Object> state = Checkpoint.load(checkpoint, model, optimizer);
        if (!(state.get("completed_epochs") instanceof Number epochs)) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " has no training position (was it saved by "
                    + "`isthmus train`?); load it as weights instead");
        }
        completedEpochs = epochs.intValue();
        if (state.get("best_accuracy") instanceof Number best) {
            bestAccuracy = best.doubleValue();
        }
        if (state.get("epochs_without_improvement") instanceof Number waiting) {
            epochsWithoutImprovement = waiting.intValue();
        }
    }

    /**
     * Trains until {@code config.epochs()} epochs are complete (counting those before a resume) or
     * early stopping ends it.
     *
     * @param validation evaluated after every epoch; may be null
     */
    public List<EpochResult> fit(Dataset train, Dataset validation) {
        List<EpochResult> results = new ArrayList<>();
        try (DataLoader loader = new DataLoader(train, config.batchSize(), true, false, config.seed(),
                config.normalization(), config.augmentation(), true)) {
            while (completedEpochs < config.epochs()) {
                int epoch = completedEpochs;
                EpochResult result = trainEpoch(loader, epoch, validation);
                results.add(result);
                completedEpochs = epoch + 1;
                boolean improved = result.validation() != null && result.validation().accuracy() > bestAccuracy;
                if (improved) {
                    bestAccuracy = result.validation().accuracy();
                    epochsWithoutImprovement = 0;
                } else if (result.validation() != null) {
                    epochsWithoutImprovement++;
                }
                saveCheckpoint();
                config.progress().epochEnd(summary(result));
                if (config.earlyStoppingPatience() > 0 && epochsWithoutImprovement >= config.earlyStoppingPatience()) {
                    config.progress().epochEnd("early stopping: validation accuracy has not improved for "
                            + epochsWithoutImprovement + " epochs (best " + percent(bestAccuracy) + ")");
                    break;
                }
            }
        }
        return results;
    }

    private EpochResult trainEpoch(DataLoader loader, int epoch, Dataset validation) {
        double rate = config.schedule().learningRate(baseLearningRate, epoch);
        optimizer.setLearningRate(rate);
        loader.startEpoch(epoch);
        int batches = loader.batchesPerEpoch();
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        int step = 0;
        Batch batch;
        optimizer.zeroGrad();
        while ((batch = loader.next()) != null) {
            step++;
            Tensor[] inputs = inputsFor(batch.size());
            Device device = model.device();
            device.copyFromHost(batch.images(), inputs[0]);
            device.copyFromHost(batch.labels(), inputs[1]);
            Tensor logits = model.forward(inputs[0], true);
            float value = loss.forward(logits, inputs[1], true).item();
            if (!Float.isFinite(value)) {
                throw diverged(epoch + 1, step, value);
            }
            model.backward(loss.backward());
            if (config.clipNorm() > 0) {
                clipGradients(config.clipNorm());
            }
            optimizer.step();
            optimizer.zeroGrad();
            lossSum += (double) value * batch.size();
            correct += countCorrect(logits, batch.labels(), batch.size(), 1);
            seen += batch.size();
            if (config.progress() != Progress.SILENT) {
                double seconds = (System.nanoTime() - start) / 1e9;
                config.progress().batch(new Progress.Status(epoch + 1, config.epochs(), step, batches, batch.size(),
                        lossSum / seen, seen / seconds));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Evaluation evaluation = validation == null ? null : evaluate(validation);
        return new EpochResult(epoch + 1, lossSum / seen, (double) correct / seen, evaluation, seen / seconds, seconds, rate);
    }

    /** Loss and accuracy (top-1 and top-k) of the model in eval mode over {@code dataset}. */
    public Evaluation evaluate(Dataset dataset) {
        int k = Math.min(config.topK(), dataset.classes());
        try (DataLoader loader = new DataLoader(dataset, config.batchSize(), false, false, config.seed(),
                config.normalization(), null, true)) {
            loader.startEpoch(0);
            double lossSum = 0;
            long correct = 0;
            long correctTopK = 0;
            long seen = 0;
            Batch batch;
            while ((batch = loader.next()) != null) {
                Tensor[] inputs = inputsFor(batch.size());
                model.device().copyFromHost(batch.images(), inputs[0]);
                model.device().copyFromHost(batch.labels(), inputs[1]);
                Tensor logits = model.forward(inputs[0], false);
                lossSum += (double) loss.forward(logits, inputs[1], false).item() * batch.size();
                correct += countCorrect(logits, batch.labels(), batch.size(), 1);
                correctTopK += countCorrect(logits, batch.labels(), batch.size(), k);
                seen += batch.size();
            }
            return new Evaluation(lossSum / seen, (double) correct / seen, (double) correctTopK / seen, k, (int) seen);
        }
    }

    /** Device tensors for a batch of {@code size}: images and I32 labels, made once per size. */
    private Tensor[] inputsFor(int size) {
        return inputsBySize.computeIfAbsent(size, n -> new Tensor[] {
            model.device().allocateActivation(model.batchShape(n)),
            model.device().allocate(Shape.of(n), DType.I32)});
    }

    /** How many samples have their label among the k largest logits (ties count against). */
    private long countCorrect(Tensor logits, MemorySegment labels, int size, int k) {
        int classes = logits.shape().dim(1);
        if (logitsOnHost.length != logits.elementCount()) {
            logitsOnHost = new float[(int) logits.elementCount()];
        }
        model.device().copyToHost(logits, MemorySegment.ofArray(logitsOnHost));
        long correct = 0;
        for (int n = 0; n < size; n++) {
            int label = labels.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, n);
            float target = logitsOnHost[n * classes + label];
            int larger = 0;
            for (int c = 0; c < classes; c++) {
                float v = logitsOnHost[n * classes + c];
                if (v > target || (v == target && c < label)) {
                    larger++;
                }
            }
            if (larger < k && !Float.isNaN(target)) {
                correct++;
            }
        }
        return correct;
    }

    /** Scales every gradient by maxNorm / ‖g‖ when the global L2 norm ‖g‖ exceeds maxNorm (clip_grad_norm_). */
    private void clipGradients(double maxNorm) {
        double squares = 0;
        for (Parameter parameter : optimizer.parameters()) {
            squares += model.device().reductions().sumOfSquares(parameter.grad());
        }
        double norm = Math.sqrt(squares);
        if (norm > maxNorm) {
            float factor = (float) (maxNorm / (norm + 1e-6));
            for (Parameter parameter : optimizer.parameters()) {
                model.device().blas().scale(parameter.grad(), factor);
            }
        }
    }

    private TrainingDivergedException diverged(int epoch, int step, float value) {
        String firstBad = null;
        for (Map.Entry<String, Layer> leaf : model.leaves().entrySet()) {
            Tensor output = leaf.getValue().lastOutput();
            if (output != null && model.device().reductions().countNonFinite(output) > 0) {
                firstBad = leaf.getKey() + " (" + leaf.getValue().describe() + ")";
                break;
            }
        }
        String note = config.checkpoint() != null && completedEpochs > 0
                ? " The last good checkpoint, after epoch " + completedEpochs + ", is " + config.checkpoint() + "."
                : "";
        return new TrainingDivergedException(epoch, step, value, firstBad, note);
    }

    private void saveCheckpoint() {
        if (config.checkpoint() == null) {
            return;
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("completed_epochs", completedEpochs);
        state.put("best_accuracy", Double.isFinite(bestAccuracy) ? bestAccuracy : null);
        state.put("epochs_without_improvement", epochsWithoutImprovement);
        state.put("seed", config.seed());
        state.put("batch_size", config.batchSize());
        state.put("base_lr", baseLearningRate);
        try {
            Checkpoint.save(config.checkpoint(), model, optimizer, state);
        } catch (IOException failed) {
            throw new UncheckedIOException("could not write checkpoint " + config.checkpoint() + ": " + failed.getMessage(), failed);
        }
    }

    private static String summary(EpochResult r) {
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

    /** Frees the per-size input tensors (the model, loss and optimizer belong to the caller). */
    @Override
    public void close() {
        for (Tensor[] inputs : inputsBySize.values()) {
            inputs[0].close();
            inputs[1].close();
        }
        inputsBySize.clear();
    }
}
