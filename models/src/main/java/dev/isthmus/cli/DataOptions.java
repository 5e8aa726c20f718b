package dev.isthmus.cli;

import dev.isthmus.data.Datasets;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.models.Zoo;
import dev.isthmus.tensor.Shape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** --data, --data-dir and --limit: which dataset a command reads, checked against the model's input. */
final class DataOptions {
    private DataOptions() {
    }

    /** Fashion-MNIST for 28×28 models, CIFAR-10 for 32×32 ones, unless --data says otherwise. */
    static String defaultData(Zoo.Entry entry) {
        return entry.height() == 28 ? "fashion-mnist" : "cifar10";
    }

    static Datasets.Split load(String command, Options options, Zoo.Entry entry) throws IOException {
        String data = options.string("data", defaultData(entry)).toLowerCase(Locale.ROOT);
        Path directory = options.has("data-dir") ? Path.of(options.string("data-dir", null)) : null;
        Datasets.Split split = switch (data) {
            case "fashion-mnist" -> Datasets.fashionMnist(directory);
            case "mnist" -> Datasets.mnist(directory);
            case "cifar10" -> Datasets.cifar10(directory);
            case "synthetic" -> Datasets.synthetic(Shape.of(entry.channels(), entry.height(), entry.width()), 10,
                    options.integer("synthetic-size", 10_000, 1, 10_000_000), 2_000, options.longValue("seed", 0));
            default -> throw new UsageException(command + ": unknown --data '" + data
                    + "' (fashion-mnist, mnist, cifar10, synthetic)");
        };
        Shape sample = split.train().sampleShape();
        if (sample.dim(1) != entry.height() || sample.dim(2) != entry.width()) {
            throw new UsageException(command + ": " + entry.name() + " takes " + entry.height() + "x" + entry.width()
                    + " images but " + data + " has " + sample.dim(1) + "x" + sample.dim(2));
        }
        int limit = options.integer("limit", 0, 0, Integer.MAX_VALUE);
        int testLimit = options.integer("test-limit", 0, 0, Integer.MAX_VALUE);
        return new Datasets.Split(limited(split.train(), limit), limited(split.test(), testLimit));
    }

    private static dev.isthmus.data.Dataset limited(dev.isthmus.data.Dataset dataset, int limit) {
        if (limit == 0 || limit >= dataset.size()) {
            return dataset;
        }
        if (dataset instanceof InMemoryDataset memory) {
            return memory.subset(0, limit);
        }
        throw new UsageException("--limit works with file datasets only; use --synthetic-size for synthetic data");
    }
}
