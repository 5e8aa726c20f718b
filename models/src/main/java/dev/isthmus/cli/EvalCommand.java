package dev.isthmus.cli;

import dev.isthmus.data.Datasets;
import dev.isthmus.data.ImageFolder;
import dev.isthmus.device.Devices;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.InputMetadata;
import dev.isthmus.io.Json;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.train.Evaluation;
import dev.isthmus.train.Progress;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code isthmus eval MODEL --checkpoint FILE}: loss and accuracy of saved weights on the test split. */
@Command(name = "eval", sortOptions = false,
        header = "loss and accuracy of a checkpoint (Isthmus or PyTorch state_dict) on the test split",
        description = {"FILE is an Isthmus checkpoint or a PyTorch state_dict saved as safetensors with the model's "
                + "parameter names. A checkpoint written by isthmus train brings its --resize, --center-crop and "
                + "--normalize (options given here win). With --json the last line is {model, test_accuracy, test_loss, samples}."})
final class EvalCommand implements Subcommand {
    @Spec
    private CommandSpec command;

    @Parameters(paramLabel = "MODEL", completionCandidates = ZooNames.class,
            description = "a zoo model: ${COMPLETION-CANDIDATES}")
    String modelName;

    @Option(names = "--checkpoint", paramLabel = "FILE", required = true, order = 1, description = "the weights to evaluate")
    Path checkpoint;

    @Mixin
    DataOptions dataOptions;

    int batch;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256", order = 21,
            description = "samples per step (default: ${DEFAULT-VALUE})")
    void batch(int value) {
        batch = Bounds.check(command, "--batch", value, 1, 65_536);
    }

    @Mixin
    SeedOption seed;

    @Mixin
    DeviceOptions machine;

    @Mixin
    StandardOptions standard;

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Zoo.Entry entry = SummaryCommand.zooEntry(modelName);
        // Resize, crop and normalisation as in training, unless the command line says otherwise.
        InputMetadata saved = InputMetadata.read(checkpoint);
        dataOptions.defaultsFrom(saved);
        Datasets.Split data = dataOptions.load(command.name(), entry, seed.value, err);
        if (saved != null && saved.classNames() != null && data.test() instanceof ImageFolder folder
                && !saved.classNames().equals(folder.classNames())) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was trained on classes " + saved.classNames()
                    + ", the folder has " + folder.classNames());
        }
        Devices.Choice choice = machine.open();
        try (var device = choice.device();
             Model model = entry.create(data.test().sampleShape().dim(0), data.test().classes());
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            // Evaluation runs no backward: the layers share activation memory (InferencePlan).
            model.inferenceOnly().precision(machine.precision).build(device, batch, 0);
            Checkpoint.load(checkpoint, model, null);
            TrainingConfig config = new TrainingConfig(1, batch, 0, null, 0, 0, null, 5, Progress.SILENT,
                    dataOptions.normalization(command.name()), null);
            try (Sgd unused = new Sgd(model.parameters(), 0); Trainer trainer = new Trainer(model, loss, unused, config)) {
                Evaluation test = trainer.evaluate(data.test());
                out.printf("%s from %s: test %s, loss %.4f on %,d images%n", model.name(), checkpoint, accuracyText(test),
                        test.loss(), test.samples());
                if (standard.json) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("model", model.name());
                    json.put("test_accuracy", test.accuracy());
                    json.put("test_loss", test.loss());
                    if (test.hasDice()) {
                        json.put("test_dice", test.dice());
                    }
                    json.put("samples", test.samples());
                    out.println(Json.write(json));
                }
            }
        }
        return 0;
    }

    /**
     * "accuracy 91.20% (top-5 99.10%)" for a classifier, "pixel accuracy 98.70%, Dice 0.9531" for a segmentation.
     *
     * @param test the evaluation
     * @return its accuracy, and Dice where measured
     */
    static String accuracyText(Evaluation test) {
        if (test.hasDice()) {
            return String.format("pixel accuracy %.2f%%, Dice %.4f", 100 * test.accuracy(), test.dice());
        }
        return String.format("accuracy %.2f%% (top-%d %.2f%%)", 100 * test.accuracy(), test.topK(), 100 * test.topKAccuracy());
    }
}
