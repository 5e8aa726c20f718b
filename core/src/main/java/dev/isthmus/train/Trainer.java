package dev.isthmus.train;

import dev.isthmus.data.Batch;
import dev.isthmus.data.DataLoader;
import dev.isthmus.data.DataShard;
import dev.isthmus.data.Dataset;
import dev.isthmus.device.Device;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.loss.Loss;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The training loop of DESIGN.md §2 for classifiers and segmentation networks, as a loop plus listeners: batches from a
 * {@link DataLoader} go through one {@link TrainStep}; after each epoch the model is evaluated on
 * the validation set; everything else (learning-rate schedule, NaN guard, checkpoints, progress,
 * early stopping) is a {@link TrainingListener}, installed from the {@link TrainingConfig} and
 * open to change from Java. {@link #resume} continues exactly where a checkpoint stopped (the batch
 * order and dropout masks are pure functions of the seed and the epoch, so nothing else is needed).
 *
 * <p>What the host waits for: each step's loss, one float, because the guard must stop at the step
 * that diverged while the layers still hold its outputs; accuracy is counted on the device and read
 * once per epoch, and evaluation reads its losses and counts once at the end.
 *
 * <p><b>Segmentation.</b> A dataset whose {@linkplain Dataset#labelShape() labels} are [H, W] (a
 * {@link dev.isthmus.data.SegmentationDataset}) trains a model whose output is [N, C, H, W]: the
 * loss is the caller's (a {@link dev.isthmus.loss.CrossEntropyLoss} is PyTorch's per-pixel mean
 * over the pixels not ignored), accuracy is pixel accuracy and the epoch's figures carry the mean
 * foreground Dice, all counted on the device ({@link dev.isthmus.device.ReductionKernels#countSegmentation}).
 * A dataset whose labels do not fit the model's output is refused before anything is allocated.
 */
public final class Trainer implements AutoCloseable {
    private final Model model;
    private final Optimizer optimizer;
    private final TrainingConfig config;
    private final double baseLearningRate;
    private final TrainStep step;
    private final List<TrainingListener> listeners = new ArrayList<>();
    // Training and evaluation count apart, so an evaluation a listener runs mid-epoch leaves the epoch's count alone.
    private final DeviceCounter correct;
    private final DeviceCounter evaluationCorrect;
    private final DeviceCounter evaluationCorrectTopK;
    /** A segmentation model's pixel counts (training and evaluation apart, as above); null for a classifier. */
    private final PixelCounts pixels;
    private final PixelCounts evaluationPixels;
    private final float[] lossOnHost = new float[1];
    private final MemorySegment lossView = MemorySegment.ofArray(lossOnHost);
    private int completedEpochs;
    private double bestAccuracy = Double.NEGATIVE_INFINITY;
    private int epochsWithoutImprovement;
    private String stopReason;
    private boolean fitting;
    private ProcessGroup group;
    private String groupConfiguration;

    /**
     * A trainer with the {@linkplain #defaultListeners default listeners} of {@code config}.
     *
     * @param model the model
     * @param loss the loss
     * @param optimizer the optimizer
     * @param config the training configuration
     */
    public Trainer(Model model, Loss loss, Optimizer optimizer, TrainingConfig config) {
        if (model == null || loss == null || optimizer == null || config == null) {
            throw new IllegalArgumentException("Trainer: model, loss, optimizer and config are required");
        }
        if (model.device() == null) {
            throw new IllegalStateException("Trainer: build " + model.name() + " on a device first");
        }
        this.model = model;
        this.optimizer = optimizer;
        this.config = config;
        this.baseLearningRate = optimizer.learningRate();
        this.step = new TrainStep(model, loss, optimizer, config.clipNorm());
        this.correct = new DeviceCounter(model.device());
        this.evaluationCorrect = new DeviceCounter(model.device());
        this.evaluationCorrectTopK = new DeviceCounter(model.device());
        Shape output = model.root().outputShape();
        boolean perPixel = output != null && output.rank() == 4;
        this.pixels = perPixel ? new PixelCounts(model.device(), output.dim(1)) : null;
        this.evaluationPixels = perPixel ? new PixelCounts(model.device(), output.dim(1)) : null;
        listeners.addAll(defaultListeners(config));
    }

    /**
     * What {@code isthmus train} runs with, in call order: the learning-rate schedule, the NaN
     * guard, a checkpoint after every epoch (when the config names a file), progress (unless
     * silent) and early stopping (when patience is above 0).
     *
     * @param config the training configuration
     * @return what {@code isthmus train} runs with, in call order: the learning-rate schedule, the NaN guard, a checkpoint after every epoch (when the config names a file), progress (unless silent) and early stopping (when patience is above 0)
     */
    public static List<TrainingListener> defaultListeners(TrainingConfig config) {
        List<TrainingListener> defaults = new ArrayList<>();
        defaults.add(new LearningRateScheduler(config.schedule()));
        defaults.add(new DivergenceGuard(config.checkpoint()));
        if (config.checkpoint() != null) {
            defaults.add(new EpochCheckpoints(config.checkpoint()));
        }
        if (config.progress() != Progress.SILENT) {
            defaults.add(new ProgressReporter(config.progress()));
        }
        if (config.earlyStoppingPatience() > 0) {
            defaults.add(new EarlyStopping(config.earlyStoppingPatience()));
        }
        return defaults;
    }

    /**
     * The listeners, in call order (a read-only view).
     *
     * @return the listeners, in call order (a read-only view)
     */
    public List<TrainingListener> listeners() {
        return Collections.unmodifiableList(listeners);
    }

    /**
     * Appends a listener: it hears every event after those added before it.
     *
     * @param listener the listener
     * @return this trainer
     */
    public Trainer addListener(TrainingListener listener) {
        requireNotFitting();
        if (listener == null) {
            throw new IllegalArgumentException("Trainer: listener is null");
        }
        listeners.add(listener);
        return this;
    }

    /**
     * Removes one listener; returns whether it was there.
     *
     * @param listener the listener
     * @return whether the listener was there
     */
    public boolean removeListener(TrainingListener listener) {
        requireNotFitting();
        return listeners.remove(listener);
    }

    /**
     * Removes every listener of a kind (e.g. {@code EarlyStopping.class}); returns how many.
     *
     * @param kind the listener class to remove
     * @return how many were removed
     */
    public int removeListeners(Class<? extends TrainingListener> kind) {
        requireNotFitting();
        int before = listeners.size();
        listeners.removeIf(kind::isInstance);
        return before - listeners.size();
    }

    private void requireNotFitting() {
        if (fitting) {
            throw new IllegalStateException("Trainer: listeners change between fits, not during one");
        }
    }

    /**
     * Trains data-parallel with {@code group}, as DistributedDataParallel: each process reads its
     * {@linkplain DataShard share} of every epoch with this trainer's batch size (so the effective
     * batch is size × batch), every step averages the gradients over the group before the update,
     * and the epoch's figures and evaluations are added up over the group, so every rank reports the
     * same numbers. Ranks other than 0 drop the progress and checkpoint listeners: one process prints
     * and writes. At the start of {@link #fit}, the ranks compare {@code configuration} and take rank
     * 0's parameters.
     *
     * @param group         the processes training together
     * @param configuration what every rank must have been started with (model, batch, seed, data ...),
     *                      compared across the ranks before the first step; named in the refusal
     * @return this trainer
     */
    public Trainer dataParallel(ProcessGroup group, String configuration) {
        requireNotFitting();
        if (group == null || configuration == null) {
            throw new IllegalArgumentException("Trainer: data-parallel training needs a process group and a configuration");
        }
        this.group = group;
        this.groupConfiguration = configuration;
        step.processGroup(group);
        if (group.rank() != 0) {
            listeners.removeIf(listener -> listener instanceof ProgressReporter || listener instanceof EpochCheckpoints);
        }
        return this;
    }

    /** {@return the processes this trainer trains with, or null when it trains alone} */
    public ProcessGroup processGroup() {
        return group;
    }

    /**
     * Ends training after the epoch in progress; {@code reason} is reported by the progress listener.
     *
     * @param reason why
     */
    public void requestStop(String reason) {
        stopReason = reason == null ? "training stopped" : reason;
    }

    /**
     * Why the last (or current) fit was asked to stop, or null.
     *
     * @return why the last (or current) fit was asked to stop, or null
     */
    public String stopReason() {
        return stopReason;
    }

    /** {@return the model trained} */
    public Model model() {
        return model;
    }

    /** {@return the optimizer that updates the model} */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** {@return how this trainer trains} */
    public TrainingConfig config() {
        return config;
    }

    /**
     * The step this trainer runs.
     *
     * @return the step this trainer runs
     */
    public TrainStep step() {
        return step;
    }

    /** {@return the epochs completed, including those of a resumed checkpoint} */
    public int completedEpochs() {
        return completedEpochs;
    }

    /**
     * Where training stands now.
     *
     * @return where training stands now
     */
    public TrainingState state() {
        return new TrainingState(completedEpochs, optimizer.stepCount(), baseLearningRate, optimizer.learningRate(),
                bestAccuracy, epochsWithoutImprovement);
    }

    /**
     * The training entry a checkpoint of this trainer holds: the position ({@link TrainingState}),
     * and the loss scaler's state when the step scales (FP16), as GradScaler's state_dict.
     *
     * @return the entries to save under the checkpoint's {@code training} metadata
     */
    public java.util.Map<String, Object> checkpointState() {
        java.util.Map<String, Object> entries = state().toCheckpoint(config);
        if (step.lossScaler() != null) {
            entries.put("loss_scaler", step.lossScaler().state());
        }
        if (group != null) {
            // batch_size is per process; a resume on another process count reads what the run was.
            entries.put("processes", group.size());
            entries.put("effective_batch_size", group.size() * config.batchSize());
        }
        return entries;
    }

    /**
     * Loads a checkpoint written by this trainer and continues after its last completed epoch.
     *
     * @param checkpoint the checkpoint file
     * @throws IOException when reading or writing the file fails
     */
    public void resume(Path checkpoint) throws IOException {
        java.util.Map<String, Object> saved = Checkpoint.load(checkpoint, model, optimizer);
        if (step.lossScaler() != null && saved.get("loss_scaler") instanceof java.util.Map<?, ?> scaler) {
            step.lossScaler().restore(scaler);
        }
        TrainingState resumed = state().resumedFrom(saved, checkpoint);
        completedEpochs = resumed.completedEpochs();
        bestAccuracy = resumed.bestAccuracy();
        epochsWithoutImprovement = resumed.epochsWithoutImprovement();
    }

    /**
     * Trains until {@code config.epochs()} epochs are complete (counting those before a resume) or
     * a listener asks to stop.
     *
     * @param validation evaluated after every epoch; may be null
     * @param train the training set
     * @return each epoch's figures, in order
     */
    public List<EpochResult> fit(Dataset train, Dataset validation) {
        requireNotFitting();
        if (train == null) {
            throw new IllegalArgumentException("Trainer: the training set is null");
        }
        checkLabels(train, "training");
        if (validation != null) {
            checkLabels(validation, "validation");
        }
        List<EpochResult> results = new ArrayList<>();
        stopReason = null;
        fitting = true;
        try (DataLoader loader = new DataLoader(train, config.batchSize(), true, false, config.seed(),
                config.normalization(), config.augmentation(), true,
                group == null ? DataShard.WHOLE : new DataShard(group.rank(), group.size(), true))) {
            if (group != null) {
                group.join(model, groupConfiguration);
            }
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onTrainingBegin(this);
            }
            while (completedEpochs < config.epochs() && stopReason == null) {
                int epoch = completedEpochs;
                EpochResult result = trainEpoch(loader, epoch, validation);
                results.add(result);
                completedEpochs = epoch + 1;
                if (result.validation() != null && result.validation().accuracy() > bestAccuracy) {
                    bestAccuracy = result.validation().accuracy();
                    epochsWithoutImprovement = 0;
                } else if (result.validation() != null) {
                    epochsWithoutImprovement++;
                }
                for (int i = 0; i < listeners.size(); i++) {
                    listeners.get(i).onEpochEnd(this, result);
                }
            }
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onTrainingEnd(this);
            }
        } finally {
            fitting = false;
        }
        return results;
    }

    /**
     * Refuses {@code dataset} when its labels do not fit the model's output: a class per sample
     * ([]) for logits [N, C], a class per pixel ([H, W]) for logits [N, C, H, W].
     */
    private void checkLabels(Dataset dataset, String role) {
        Shape output = model.root().outputShape();
        Shape labels = dataset.labelShape();
        Shape expected = output.rank() == 2 ? Shape.of()
                : Shape.of(java.util.Arrays.copyOfRange(output.dims(), 2, output.rank()));
        if (!expected.equals(labels)) {
            throw new IllegalArgumentException("Trainer: " + model.name() + " outputs " + output + " ("
                    + describeLabels(expected) + " " + expected + " per sample), but the " + role + " set "
                    + dataset.describe() + " has " + describeLabels(labels) + " " + labels + " per sample");
        }
    }

    private static String describeLabels(Shape perSample) {
        return perSample.rank() == 0 ? "one class" : "a class per pixel";
    }

    private EpochResult trainEpoch(DataLoader loader, int epoch, Dataset validation) {
        loader.startEpoch(epoch);
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).onEpochBegin(this, epoch + 1);
        }
        double rate = optimizer.learningRate();
        int batches = loader.batchesPerEpoch();
        boolean perPixel = loader.labelShape().rank() > 0;
        if (perPixel) {
            pixels.reset();
        } else {
            correct.reset();
        }
        long start = System.nanoTime();
        double lossSum = 0;
        long seen = 0;
        int stepInEpoch = 0;
        Batch batch;
        while ((batch = loader.next()) != null) {
            stepInEpoch++;
            DeviceBatch onDevice = step.copyIn(batch);
            Tensor counter = correct.tensor();
            if (perPixel) {
                pixels.reserve(onDevice.labels().elementCount());
                counter = pixels.tensor();
            }
            float value = read(step.train(onDevice, counter));
            lossSum += (double) value * batch.size();
            seen += batch.size();
            StepResult result = new StepResult(epoch + 1, stepInEpoch, batches, batch.size(), value);
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onStep(this, result);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (perPixel) {
            pixels.fold();
            if (group != null) {
                double[] totals = {lossSum, seen};
                group.sum(totals);
                lossSum = totals[0];
                seen = (long) totals[1];
                sumOverGroup(pixels.totals());
            }
            Evaluation evaluation = validation == null ? null : evaluate(validation);
            return new EpochResult(epoch + 1, lossSum / seen, pixels.pixelAccuracy(), evaluation, seen / seconds, seconds,
                    rate, pixels.dice());
        }
        long hits = correct.read();
        if (group != null) {
            // Every rank reports the epoch of the whole group: the sums of its shares.
            double[] totals = {lossSum, seen, hits};
            group.sum(totals);
            lossSum = totals[0];
            seen = (long) totals[1];
            hits = (long) totals[2];
        }
        double accuracy = (double) hits / seen;
        Evaluation evaluation = validation == null ? null : evaluate(validation);
        return new EpochResult(epoch + 1, lossSum / seen, accuracy, evaluation, seen / seconds, seconds, rate);
    }

    /** Adds each rank's counts into every rank's (exact: counts stay far below 2^53). */
    private void sumOverGroup(long[] counts) {
        double[] values = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            values[i] = counts[i];
        }
        group.sum(values);
        for (int i = 0; i < counts.length; i++) {
            counts[i] = (long) values[i];
        }
    }

    /** A one-element device tensor's value, through a host float kept for it (waits for the device). */
    private float read(Tensor loss) {
        model.device().copyToHost(loss, lossView);
        return lossOnHost[0];
    }

    /**
     * Loss and accuracy (top-1 and top-k) of the model in eval mode over {@code dataset} (when
     * data-parallel, each rank evaluates its share and the sums are added up: a collective). Each
     * batch's loss is copied into a slot of a device vector and the hits are counted on the device,
     * so the host waits once, at the end, and sums the batch losses in double.
     *
     * @param dataset the dataset
     * @return loss and accuracy (top-1 and top-k) of the model in eval mode over {@code dataset}
     */
    public Evaluation evaluate(Dataset dataset) {
        if (dataset == null) {
            throw new IllegalArgumentException("Trainer: the evaluation set is null");
        }
        checkLabels(dataset, "evaluation");
        boolean perPixel = dataset.labelShape().rank() > 0;
        int k = perPixel ? 1 : Math.min(config.topK(), dataset.classes());
        Device device = model.device();
        if (group != null) {
            group.broadcastBuffers(model);
        }
        try (DataLoader loader = new DataLoader(dataset, config.batchSize(), false, false, config.seed(),
                config.normalization(), null, true,
                group == null ? DataShard.WHOLE : new DataShard(group.rank(), group.size(), false));
             Tensor losses = device.allocate(Shape.of(Math.max(1, loader.batchesPerEpoch())))) {
            loader.startEpoch(0);
            if (perPixel) {
                evaluationPixels.reset();
            } else {
                evaluationCorrect.reset();
                evaluationCorrectTopK.reset();
            }
            int[] sizes = new int[loader.batchesPerEpoch()];
            int batches = 0;
            Batch batch;
            while ((batch = loader.next()) != null) {
                DeviceBatch onDevice = step.copyIn(batch);
                device.copy(step.evaluate(onDevice), losses.slice(batches, Shape.of(1)));
                if (perPixel) {
                    evaluationPixels.reserve(onDevice.labels().elementCount());
                    step.count(step.logits(), onDevice, evaluationPixels.tensor());
                } else {
                    device.reductions().countCorrect(step.logits(), onDevice.labels(), 1, evaluationCorrect.tensor());
                    device.reductions().countCorrect(step.logits(), onDevice.labels(), k, evaluationCorrectTopK.tensor());
                }
                sizes[batches++] = batch.size();
            }
            float[] values = losses.toFloatArray();
            double lossSum = 0;
            long seen = 0;
            for (int i = 0; i < batches; i++) {
                lossSum += (double) values[i] * sizes[i];
                seen += sizes[i];
            }
            if (perPixel) {
                evaluationPixels.fold();
                if (group != null) {
                    double[] totals = {lossSum, seen};
                    group.sum(totals);
                    lossSum = totals[0];
                    seen = (long) totals[1];
                    sumOverGroup(evaluationPixels.totals());
                }
                double accuracy = evaluationPixels.pixelAccuracy();
                return new Evaluation(lossSum / seen, accuracy, accuracy, 1, (int) seen, evaluationPixels.dice());
            }
            long hits = evaluationCorrect.read();
            long hitsTopK = evaluationCorrectTopK.read();
            if (group != null) {
                // Each rank evaluated its share; the evaluation is of the whole set.
                double[] totals = {lossSum, seen, hits, hitsTopK};
                group.sum(totals);
                lossSum = totals[0];
                seen = (long) totals[1];
                hits = (long) totals[2];
                hitsTopK = (long) totals[3];
            }
            return new Evaluation(lossSum / seen, (double) hits / seen, (double) hitsTopK / seen, k, (int) seen);
        }
    }

    /** Frees the step's device batches and the counters (the model, loss and optimizer belong to the caller). */
    @Override
    public void close() {
        step.close();
        correct.close();
        evaluationCorrect.close();
        evaluationCorrectTopK.close();
        if (pixels != null) {
            pixels.close();
            evaluationPixels.close();
        }
    }
}
