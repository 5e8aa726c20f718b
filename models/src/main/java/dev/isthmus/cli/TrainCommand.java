package dev.isthmus.cli;

import dev.isthmus.data.Augmentation;
import dev.isthmus.data.Datasets;
import dev.isthmus.device.Devices;
import dev.isthmus.io.InputMetadata;
import dev.isthmus.io.Json;
import dev.isthmus.io.LoadReport;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.loss.Loss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.train.EpochCheckpoints;
import dev.isthmus.train.EpochResult;
import dev.isthmus.train.Evaluation;
import dev.isthmus.train.Progress;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import dev.isthmus.train.MetricsLog;
import dev.isthmus.train.TrainingListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code isthmus train MODEL}: trains a zoo model on a dataset and reports the test accuracy. */
@Command(name = "train", sortOptions = false,
        header = "train a model (LeNet-5 on Fashion-MNIST by default) and report the test accuracy",
        description = {"The defaults are the README recipe: SGD lr 0.01, momentum 0.9, batch 64, 10 epochs.",
                "With --json the last line is {model, epochs, test_accuracy, test_loss, train_loss, images_per_s, "
                        + "seconds, device}."})
final class TrainCommand implements Subcommand {
    @Spec
    private CommandSpec command;

    @Parameters(paramLabel = "MODEL", completionCandidates = ZooNames.class,
            description = "a zoo model: ${COMPLETION-CANDIDATES}")
    String modelName;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--augment", paramLabel = "crop:PAD,flip", order = 16,
            description = "training-only augmentation: random crops of the image padded by PAD pixels, horizontal flips")
    String augment;

    @Mixin
    TrainingOptions training;

    int batch;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", order = 21,
            description = "samples per step (default: ${DEFAULT-VALUE})")
    void batch(int value) {
        batch = Bounds.check(command, "--batch", value, 1, 65_536);
    }

    @Mixin
    SeedOption seed;

    @Mixin
    DeviceOptions machine;

    @Option(names = "--checkpoint", paramLabel = "FILE", order = 50, description = "written after every epoch")
    Path checkpoint;

    @Option(names = "--resume", paramLabel = "FILE", order = 51, description = "continue training from this checkpoint")
    Path resume;

    @Option(names = "--log-dir", paramLabel = "DIR", order = 52,
            description = "write DIR/metrics.jsonl (a line every 10 steps and every epoch) and, at the end, the "
                    + "training curves DIR/curves.png (isthmus plot DIR redraws them)")
    Path logDir;

    @Mixin
    FineTuneOptions fineTune;

    @Mixin
    DistributedOptions distributed;

    @Mixin
    StandardOptions standard;

    /**
     * Alone, or as one rank of an MPI job (the launcher's environment says which): then rank 0
     * prints and writes, and a failure on any rank ends the whole job instead of leaving the
     * others waiting for it.
     */
    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Zoo.Entry entry = SummaryCommand.zooEntry(modelName);
        machine.threads = DistributedOptions.threadsPerProcess(machine.threads);
        try (DistributedOptions.Session session = distributed.open(machine.device, checkpoint, err)) {
            try {
                return train(entry, session.leads() ? out : DistributedOptions.discard(), err, session);
            } catch (Exception problem) {
                session.abortOn(problem, err);
                throw problem;
            }
        }
    }

    private int train(Zoo.Entry entry, PrintStream out, PrintStream err, DistributedOptions.Session session) throws Exception {
        int epochs = training.epochs;
        TrainingConfig config = new TrainingConfig(epochs, batch, seed.value, training.schedule(), training.clipNorm,
                training.patience, checkpoint, 5, Progress.forOutput(out, Progress.standardOutputIsTerminal()),
                dataOptions.normalization(command.name()), augmentation());

        fineTune.validate(command.name(), resume, training.labelSmoothing);
        Datasets.Split data = fineTune.selectClasses(dataOptions.load(command.name(), entry, seed.value, err));
        machine.device = session.device(machine.device);
        Devices.Choice choice = machine.open();
        long started = System.nanoTime();
        int channels = data.train().sampleShape().dim(0);
        try (var device = choice.device();
             Model model = entry.create(channels, data.train().classes());
             Model teacher = fineTune.openTeacher(device, channels, data.train().classes(), batch);
             Loss loss = teacher == null ? new CrossEntropyLoss(training.labelSmoothing) : fineTune.distillation(teacher)) {
            if (machine.device.equals("auto")) {
                out.println("device: " + device.name() + " (" + choice.reason() + ")");
            }
            session.synchronizeBatchNorm(model, distributed.syncBatchNorm, out);
            List<String> frozen = fineTune.freeze(model);
            model.precision(machine.precision).build(device, batch, seed.value);
            if (model.precision().isMixed()) {
                out.println("precision: " + model.precision().label() + " (convolutions: "
                        + device.convolutionKernel(model.precision().operandType()) + ")");
            }
            out.printf("%s (%,d parameters) on %s: %s, %,d training / %,d test images, %d epochs, batch %d%n",
                    model.name(), model.parameterCount(), device.name(), data.train().describe(), data.train().size(),
                    data.test().size(), epochs, batch);
            if (session.distributed()) {
                out.printf("data-parallel: %d processes, batch %d per process, effective batch %d; gradients averaged %s%n",
                        session.size(), batch, session.size() * batch, distributed.bucketMegabytes > 0
                                && !device.name().startsWith("cuda") ? "in " + distributed.bucketMegabytes
                                + " MB buckets overlapping backward" : "after backward");
            }
            LoadReport initialised = fineTune.initialise(model, out);
            if (!frozen.isEmpty()) {
                out.printf("frozen: %d parameters (%s)%n", frozen.size(), String.join(", ", frozen));
            }
            if (teacher != null) {
                out.println("distilling from " + teacher.name() + ": " + loss.describe());
            }
            try (Optimizer optimizer = training.optimizer(model.trainableParameters());
                 Trainer trainer = new Trainer(model, loss, optimizer, config)) {
                fineTune.configure(optimizer, training.lr);
                if (checkpoint != null) {
                    recordInputs(trainer, DataOptions.inputMetadata(data, config.normalization()));
                }
                if (resume != null) {
                    trainer.resume(resume);
                    out.println("resumed after epoch " + trainer.completedEpochs() + " from " + resume);
                }
                session.attach(trainer, "isthmus train " + String.join(" ", command.commandLine().getParseResult().originalArgs())
                        + " (" + model.name() + ", " + model.parameterCount() + " parameters, " + data.train().size() + " images)");
                MetricsLog log = logDir == null || !session.leads() ? null : new MetricsLog(logDir, 10);
                List<EpochResult> results;
                try {
                    if (log != null) {
                        trainer.addListener(log);
                    }
                    results = trainer.fit(data.train(), data.test());
                } finally {
                    if (log != null) {
                        log.close();
                    }
                }
                if (log != null && !results.isEmpty()) {
                    out.println("training curves: " + TrainingChart.draw(logDir, model.name()) + " (metrics: " + log.file() + ")");
                }
                if (session.communicationSummary() != null) {
                    out.println("data-parallel: " + session.communicationSummary());
                }
                Evaluation test = results.isEmpty() ? trainer.evaluate(data.test()) : results.getLast().validation();
                double seconds = (System.nanoTime() - started) / 1e9;
                double trainImages = results.stream().mapToDouble(r -> r.imagesPerSecond() * r.seconds()).sum();
                double trainSeconds = results.stream().mapToDouble(EpochResult::seconds).sum();
                if (test.hasDice()) {
                    out.printf("test pixel accuracy: %.2f%%, Dice %.4f, test loss %.4f, %d epochs in %.1f s%n",
                            100 * test.accuracy(), test.dice(), test.loss(), trainer.completedEpochs(), seconds);
                } else {
                    out.printf("test accuracy: %.2f%% (top-%d %.2f%%), test loss %.4f, %d epochs in %.1f s%n",
                            100 * test.accuracy(), test.topK(), 100 * test.topKAccuracy(), test.loss(),
                            trainer.completedEpochs(), seconds);
                }
                if (standard.json) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("model", model.name());
                    json.put("epochs", trainer.completedEpochs());
                    json.put("test_accuracy", test.accuracy());
                    json.put("test_loss", test.loss());
                    if (test.hasDice()) {
                        json.put("test_dice", test.dice());
                    }
                    json.put("train_loss", results.isEmpty() ? null : results.getLast().trainLoss());
                    json.put("images_per_s", trainSeconds > 0 ? trainImages / trainSeconds : null);
                    json.put("seconds", seconds);
                    json.put("device", device.name());
                    json.put("precision", model.precision().label());
                    if (initialised != null) {
                        json.put("init_loaded", initialised.loaded().size());
                        json.put("init_skipped", initialised.mismatched());
                        json.put("init_missing", initialised.missing());
                        json.put("init_unexpected", initialised.unexpected());
                    }
                    if (!frozen.isEmpty()) {
                        json.put("frozen", frozen);
                    }
                    out.println(Json.write(json));
                }
            }
        }
        return 0;
    }

    /**
     * Puts the class names and preprocessing into every checkpoint: the default checkpoint
     * listener is replaced, in its place, by one that writes them too, so predict and eval
     * prepare images exactly as training did.
     */
    private void recordInputs(Trainer trainer, InputMetadata inputs) {
        for (TrainingListener listener : List.copyOf(trainer.listeners())) {
            trainer.removeListener(listener);
            trainer.addListener(listener instanceof EpochCheckpoints ? new EpochCheckpoints(checkpoint, inputs.toMetadata())
                    : listener);
        }
    }

    private Augmentation augmentation() {
        if (augment == null) {
            return null;
        }
        int padding = 0;
        boolean flip = false;
        for (String part : augment.split(",")) {
            if (part.equals("flip")) {
                flip = true;
            } else if (part.startsWith("crop:")) {
                try {
                    padding = Integer.parseInt(part.substring(5));
                } catch (NumberFormatException bad) {
                    throw new UsageException("train: --augment crop:PADDING needs an integer, got '" + part + "'");
                }
            } else {
                throw new UsageException("train: --augment takes crop:PADDING and/or flip, got '" + part + "'");
            }
        }
        return new Augmentation(padding, flip);
    }
}
