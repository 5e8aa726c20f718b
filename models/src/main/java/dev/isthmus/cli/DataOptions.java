package dev.isthmus.cli;

import dev.isthmus.data.Datasets;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.data.Normalization;
import dev.isthmus.models.Zoo;
import dev.isthmus.tensor.Shape;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * --data, --data-dir, --limit, --test-limit, --synthetic-size and --normalize: which dataset a
 * command reads, checked against the model's input, and how its pixels are scaled.
 */
final class DataOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(names = "--data", paramLabel = "fashion-mnist|mnist|cifar10|synthetic", order = 10,
            description = "the dataset (default: fashion-mnist for 28x28 models, cifar10 for 32x32 ones)")
    String data;

    @Option(names = "--data-dir", paramLabel = "DIR", order = 11,
            description = "the dataset's folder (Fashion-MNIST's default: Debian's /usr/share/datasets/fashion-mnist)")
    Path directory;

    int limit;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", order = 12,
            description = "use only the first N training samples (default: all)")
    void limit(int value) {
        limit = Bounds.check(command, "--limit", value, 0, Integer.MAX_VALUE);
    }

    int testLimit;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0", order = 13,
            description = "use only the first N test samples (default: all)")
    void testLimit(int value) {
        testLimit = Bounds.check(command, "--test-limit", value, 0, Integer.MAX_VALUE);
    }

    int syntheticSize;

    @Option(names = "--synthetic-size", paramLabel = "N", defaultValue = "10000", order = 14,
            description = "training samples of --data synthetic (default: ${DEFAULT-VALUE})")
    void syntheticSize(int value) {
        syntheticSize = Bounds.check(command, "--synthetic-size", value, 1, 10_000_000);
    }

    @Option(names = "--normalize", paramLabel = "MEAN/STD", order = 15,
            description = {"per-channel mean and standard deviation, comma-separated, e.g. 0.2860/0.3530 or "
                    + "0.4914,0.4822,0.4465/0.247,0.243,0.261 (default: pixels in [0, 1])"})
    String normalize;

    /** Fashion-MNIST for 28×28 models, CIFAR-10 for 32×32 ones, unless --data says otherwise. */
    static String defaultData(Zoo.Entry entry) {
        return entry.height() == 28 ? "fashion-mnist" : "cifar10";
    }

    Datasets.Split load(String command, Zoo.Entry entry, long seed) throws IOException {
        String data = (this.data == null ? defaultData(entry) : this.data).toLowerCase(Locale.ROOT);
        Datasets.Split split = switch (data) {
            case "fashion-mnist" -> Datasets.fashionMnist(directory);
            case "mnist" -> Datasets.mnist(directory);
            case "cifar10" -> Datasets.cifar10(directory);
            case "synthetic" -> Datasets.synthetic(Shape.of(entry.channels(), entry.height(), entry.width()), 10,
                    syntheticSize, 2_000, seed);
            default -> throw new UsageException(command + ": unknown --data '" + data
                    + "' (fashion-mnist, mnist, cifar10, synthetic)");
        };
        Shape sample = split.train().sampleShape();
        if (sample.dim(1) != entry.height() || sample.dim(2) != entry.width()) {
            throw new UsageException(command + ": " + entry.name() + " takes " + entry.height() + "x" + entry.width()
                    + " images but " + data + " has " + sample.dim(1) + "x" + sample.dim(2));
        }
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

    /** The --normalize statistics, or null (pixels stay in [0, 1]). */
    Normalization normalization(String command) {
        if (normalize == null) {
            return null;
        }
        try {
            String[] parts = normalize.split("/");
            float[] mean = floats(parts[0]);
            float[] std = floats(parts[1]);
            return new Normalization(mean, std);
        } catch (RuntimeException bad) {
            throw new UsageException(command + ": --normalize MEAN/STD with comma-separated values per channel, e.g. "
                    + "0.4914,0.4822,0.4465/0.247,0.243,0.261; got '" + normalize + "'");
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
}
