package dev.isthmus.cli;

import dev.isthmus.data.Augmentation;
import dev.isthmus.data.Datasets;
import dev.isthmus.data.Normalization;
import dev.isthmus.device.Devices;
import dev.isthmus.io.Json;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.train.EpochResult;
import dev.isthmus.train.Evaluation;
import dev.isthmus.train.Progress;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code isthmus train MODEL}: trains a zoo model on a dataset and reports the test accuracy. */
final class TrainCommand implements Command {
    static final Set<String> VALUED = Set.of("data", "data-dir", "epochs", "batch", "lr", "optimizer", "momentum",
            "weight-decay", "schedule", "device", "threads", "seed", "checkpoint", "resume", "clip-norm", "patience",
            "limit", "test-limit", "synthetic-size", "label-smoothing", "augment", "normalize");

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "train a model (LeNet-5 on Fashion-MNIST by default) and report the test accuracy";
    }

    @Override
    public String help() {
        return """
                Usage: isthmus train MODEL [options]

                Data     --data fashion-mnist|mnist|cifar10|synthetic (default: fashion-mnist for 28x28
                         models, cifar10 for 32x32)  --data-dir DIR  --limit N (first N training samples)
                         --test-limit N  --normalize MEAN/STD (e.g. 0.2860/0.3530; default: pixels in [0, 1])
                         --augment crop:PAD,flip (training only)
                Training --epochs 10  --batch 64  --lr 0.01  --optimizer sgd|nesterov|adam|adamw|rmsprop|adagrad
                         --momentum 0.9  --weight-decay 0  --schedule constant|step:S:G|multistep:E1,E2:G|
                         exponential:G|cosine[:T[:MIN]]|linear:START:N|warmup:N+...  --clip-norm X
                         --patience N (early stopping on test accuracy)  --label-smoothing E  --seed 0
                Machine  --device cpu|cuda|auto (default cpu)  --threads N (default: all cores)
                State    --checkpoint FILE (written after every epoch)  --resume FILE (continue from it)
                Output   --json (last line: model, epochs, test_accuracy, train_loss, images_per_s, seconds, device)

                The defaults are the README recipe: SGD lr 0.01, momentum 0.9, batch 64, 10 epochs.
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options options = Options.parse(name(), args, VALUED, Set.of("json"));
        if (options.positionals().size() != 1) {
            throw new UsageException(name() + ": expected one MODEL (see isthmus summary --help for the list)");
        }
        Zoo.Entry entry = SummaryCommand.zooEntry(options.positionals().get(0));
        int epochs = options.integer("epochs", 10, 1, 100_000);
        int batch = options.integer("batch", 64, 1, 65_536);
        double lr = options.decimal("lr", 0.01, 0, 1e6);
        double momentum = options.decimal("momentum", 0.9, 0, 1);
        double weightDecay = options.decimal("weight-decay", 0, 0, 1e3);
        long seed = options.longValue("seed", 0);
        int threads = options.integer("threads", 0, 0, 1024);
        float smoothing = (float) options.decimal("label-smoothing", 0, 0, 1);
        TrainingConfig config = new TrainingConfig(epochs, batch, seed,
                TrainingOptions.schedule(options.string("schedule", "constant"), epochs),
                options.decimal("clip-norm", 0, 0, 1e12), options.integer("patience", 0, 0, 100_000),
                options.has("checkpoint") ? Path.of(options.string("checkpoint", null)) : null, 5,
                Progress.forOutput(out, Progress.standardOutputIsTerminal()),
                normalization(options), augmentation(options));

        Datasets.Split data = DataOptions.load(name(), options, entry);
        Devices.Choice choice = Devices.open(options.string("device", "cpu"), threads);
        long started = System.nanoTime();
        try (var device = choice.device();
             Model model = entry.create(data.train().sampleShape().dim(0), data.train().classes());
             CrossEntropyLoss loss = new CrossEntropyLoss(smoothing)) {
            if (options.string("device", "cpu").equals("auto")) {
                out.println("device: " + device.name() + " (" + choice.reason() + ")");
            }
            model.build(device, batch, seed);
            out.printf("%s (%,d parameters) on %s: %s, %,d training / %,d test images, %d epochs, batch %d%n",
                    model.name(), model.parameterCount(), device.name(), data.train().describe(), data.train().size(),
                    data.test().size(), epochs, batch);
            try (Optimizer optimizer = TrainingOptions.optimizer(options.string("optimizer", "sgd"), model.parameters(), lr,
                    momentum, weightDecay);
                 Trainer trainer = new Trainer(model, loss, optimizer, config)) {
                if (options.has("resume")) {
                    trainer.resume(Path.of(options.string("resume", null)));
                    out.println("resumed after epoch " + trainer.completedEpochs() + " from " + options.string("resume", null));
                }
                List<EpochResult> results = trainer.fit(data.train(), data.test());
                Evaluation test = results.isEmpty() ? trainer.evaluate(data.test()) : results.getLast().validation();
                double seconds = (System.nanoTime() - started) / 1e9;
                double trainImages = results.stream().mapToDouble(r -> r.imagesPerSecond() * r.seconds()).sum();
                double trainSeconds = results.stream().mapToDouble(EpochResult::seconds).sum();
                out.printf("test accuracy: %.2f%% (top-%d %.2f%%), test loss %.4f, %d epochs in %.1f s%n",
                        100 * test.accuracy(), test.topK(), 100 * test.topKAccuracy(), test.loss(), trainer.completedEpochs(),
                        seconds);
                if (options.flag("json")) {
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("model", model.name());
                    json.put("epochs", trainer.completedEpochs());
                    json.put("test_accuracy", test.accuracy());
                    json.put("test_loss", test.loss());
                    json.put("train_loss", results.isEmpty() ? null : results.getLast().trainLoss());
                    json.put("images_per_s", trainSeconds > 0 ? trainImages / trainSeconds : null);
                    json.put("seconds", seconds);
                    json.put("device", device.name());
                    out.println(Json.write(json));
                }
            }
        }
        return 0;
    }

    static Normalization normalization(Options options) {
        if (!options.has("normalize")) {
            return null;
        }
        String text = options.string("normalize", "");
        try {
            String[] parts = text.split("/");
            float[] mean = floats(parts[0]);
            float[] std = floats(parts[1]);
            return new Normalization(mean, std);
        } catch (RuntimeException bad) {
            throw new UsageException("train: --normalize MEAN/STD with comma-separated values per channel, e.g. "
                    + "0.4914,0.4822,0.4465/0.247,0.243,0.261; got '" + text + "'");
        }
    }

    private static float[] floats(String csv) {
        String[] items = csv.split(",");
        float[] values = new float[items.length];
        for (int i = 0; i < items.length; i++) {
            values[i] = Float.parseFloat(items[i].trim());
        }
        return values;
    }

    static Augmentation augmentation(Options options) {
        if (!options.has("augment")) {
            return null;
        }
        int padding = 0;
        boolean flip = false;
        for (String part : options.string("augment", "").split(",")) {
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
