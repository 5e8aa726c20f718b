package dev.isthmus.cli;

import dev.isthmus.data.Datasets;
import dev.isthmus.device.Devices;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.Json;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.train.Evaluation;
import dev.isthmus.train.Progress;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code isthmus eval MODEL --checkpoint FILE}: loss and accuracy of saved weights on the test split. */
final class EvalCommand implements Command {
    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "loss and accuracy of a checkpoint (Isthmus or PyTorch state_dict) on the test split";
    }

    @Override
    public String help() {
        return """
                Usage: isthmus eval MODEL --checkpoint FILE [--data ...] [--data-dir DIR] [--batch 256]
                                    [--normalize MEAN/STD] [--device cpu|cuda|auto] [--threads N] [--json]

                FILE is an Isthmus checkpoint or a PyTorch state_dict saved as safetensors with the
                model's parameter names. With --json the last line is {model, test_accuracy, test_loss, samples}.
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options options = Options.parse(name(), args, Set.of("checkpoint", "data", "data-dir", "batch", "device", "threads",
                "limit", "test-limit", "normalize", "seed", "synthetic-size"), Set.of("json"));
        if (options.positionals().size() != 1 || !options.has("checkpoint")) {
            throw new UsageException(name() + ": expected MODEL and --checkpoint FILE");
        }
        Zoo.Entry entry = SummaryCommand.zooEntry(options.positionals().get(0));
        Path checkpoint = Path.of(options.string("checkpoint", null));
        int batch = options.integer("batch", 256, 1, 65_536);
        Datasets.Split data = DataOptions.load(name(), options, entry);
        Devices.Choice choice = Devices.open(options.string("device", "cpu"), options.integer("threads", 0, 0, 1024));
        try (var device = choice.device();
             Model model = entry.create(data.test().sampleShape().dim(0), data.test().classes());
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, batch, 0);
            Checkpoint.load(checkpoint, model, null);
            TrainingConfig config = new TrainingConfig(1, batch, 0, null, 0, 0, null, 5, Progress.SILENT,
                    TrainCommand.normalization(options), null);
            try (Sgd unused = new Sgd(model.parameters(), 0); Trainer trainer = new Trainer(model, loss, unused, config)) {
                Evaluation test = trainer.evaluate(data.test());
                out.printf("%s from %s: test accuracy %.2f%% (top-%d %.2f%%), loss %.4f on %,d images%n", model.name(),
                        checkpoint, 100 * test.accuracy(), test.topK(), 100 * test.topKAccuracy(), test.loss(), test.samples());
                if (options.flag("json")) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("model", model.name());
                    json.put("test_accuracy", test.accuracy());
                    json.put("test_loss", test.loss());
                    json.put("samples", test.samples());
                    out.println(Json.write(json));
                }
            }
        }
        return 0;
    }
}
