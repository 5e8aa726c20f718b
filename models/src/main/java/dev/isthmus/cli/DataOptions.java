package dev.isthmus.cli;

import dev.isthmus.data.Dataset;
import dev.isthmus.data.Datasets;
import dev.isthmus.data.ImageFolder;
import dev.isthmus.data.ImageFolders;
import dev.isthmus.data.ImageTransform;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.data.MovingShapes;
import dev.isthmus.data.Normalization;
import dev.isthmus.data.ShapesSegmentation;
import dev.isthmus.io.InputMetadata;
import dev.isthmus.models.Zoo;
import dev.isthmus.tensor.Shape;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * --data, --data-dir, --limit, --test-limit, --synthetic-size and --normalize: which dataset a
 * command reads, checked against the model's input, and how its pixels are scaled; and for
 * --data folder, --split, --resize, --center-crop and --strict: how a folder of images is split,
 * made the model's size, and what an unreadable image does.
 */
final class DataOptions {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    /**
     * Which images a --split hold-out sets aside: fixed rather than --seed, so train and eval
     * hold out the same images whatever seed training used.
     */
    static final long HOLD_OUT_SEED = 0;

    @Option(names = "--data", paramLabel = "fashion-mnist|mnist|cifar10|synthetic|moving-shapes|shapes|folder", order = 10,
            description = {"the dataset (default: fashion-mnist for 28x28 models, cifar10 for 32x32 ones, moving-shapes for "
                    + "clip models, shapes for segmentation models); shapes: generated circles and rectangles with a class "
                    + "per pixel (background, circle, rectangle), for segmentation models; folder: your images in --data-dir DIR, as DIR/train/CLASS/*.png|jpg and DIR/test/CLASS/..., "
                    + "or DIR/CLASS/... with --split; moving-shapes: generated clips of a shape moving in one of 4 directions"})
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

    /** 0: the generated set's own size ({@link #DEFAULT_SYNTHETIC_SIZE}, or {@link #SHAPES_TRAIN_SIZE} for shapes). */
    int syntheticSize;

    /** Training samples of --data synthetic and moving-shapes unless --synthetic-size says otherwise. */
    static final int DEFAULT_SYNTHETIC_SIZE = 10_000;
    /** --data shapes: UNetTest's recipe, 512 training and 128 held-out images (unet-small reaches Dice 0.9+ on them). */
    static final int SHAPES_TRAIN_SIZE = 512;
    static final int SHAPES_TEST_SIZE = 128;
    /** The seed of --data shapes' images, as UNetTest's: the set does not change with --seed, which orders and initialises. */
    static final long SHAPES_SEED = 7;

    @Option(names = "--synthetic-size", paramLabel = "N", order = 14,
            description = "training samples of --data synthetic, moving-shapes or shapes (default: 10000; shapes: 512)")
    void syntheticSize(int value) {
        syntheticSize = Bounds.check(command, "--synthetic-size", value, 1, 10_000_000);
    }

    @Option(names = "--normalize", paramLabel = "MEAN/STD", order = 15,
            description = {"per-channel mean and standard deviation, comma-separated, e.g. 0.2860/0.3530 or "
                    + "0.4914,0.4822,0.4465/0.247,0.243,0.261 (default: pixels in [0, 1])"})
    String normalize;

    double split;

    @Option(names = "--split", paramLabel = "F", defaultValue = "0", order = 16,
            description = "--data folder of class folders: hold out a fraction F of each class for testing "
                    + "(the same images on every run, whatever --seed)")
    void split(double value) {
        split = Bounds.check(command, "--split", value, 0, 0.99);
    }

    int resize;

    @Option(names = "--resize", paramLabel = "N", defaultValue = "0", order = 17,
            description = "--data folder: resize the shorter side to N (bilinear, antialiased), then center-crop to the "
                    + "model's size (default: resize straight to the model's size)")
    void resize(int value) {
        resize = Bounds.check(command, "--resize", value, 0, ImageTransform.MAX_SIDE);
    }

    int centerCrop;

    @Option(names = "--center-crop", paramLabel = "N", defaultValue = "0", order = 18,
            description = "--data folder: the N x N center (N = the model's size); without --resize, of the image as it is")
    void centerCrop(int value) {
        centerCrop = Bounds.check(command, "--center-crop", value, 0, ImageTransform.MAX_SIDE);
    }

    @Option(names = "--strict", order = 19,
            description = "--data folder: stop at the first unreadable image instead of skipping it with a warning")
    boolean strict;

    /** The checkpoint's normalisation, used when --normalize is not given (see {@link #defaultsFrom}). */
    private Normalization savedNormalization;

    /** Fashion-MNIST for 28×28 models, CIFAR-10 for 32×32 ones, moving shapes for clip models, unless --data says otherwise. */
    static String defaultData(Zoo.Entry entry) {
        return entry.isClip() ? "moving-shapes" : entry.isSegmentation() ? "shapes" : entry.height() == 28 ? "fashion-mnist"
                : "cifar10";
    }

    /**
     * @param err where warnings about skipped images go (from the loader's prefetch thread too)
     */
    Datasets.Split load(String command, Zoo.Entry entry, long seed, PrintStream err) throws IOException {
        String data = (this.data == null ? defaultData(entry) : this.data).toLowerCase(Locale.ROOT);
        if (!data.equals("folder") && (split > 0 || resize > 0 || centerCrop > 0 || strict)) {
            throw new UsageException(command + ": --split, --resize, --center-crop and --strict apply to --data folder only");
        }
        int generated = syntheticSize > 0 ? syntheticSize : DEFAULT_SYNTHETIC_SIZE;
        Datasets.Split split = switch (data) {
            case "fashion-mnist" -> Datasets.fashionMnist(directory);
            case "mnist" -> Datasets.mnist(directory);
            case "cifar10" -> Datasets.cifar10(directory);
            case "synthetic" -> Datasets.synthetic(Shape.of(entry.channels(), entry.height(), entry.width()), 10,
                    generated, 2_000, seed);
            // Held-out clips are a far index range of the same generator.
            case "moving-shapes" -> entry.isClip()
                    ? new Datasets.Split(new MovingShapes(entry.channels(), entry.frames(), entry.height(), generated, seed, 0),
                            new MovingShapes(entry.channels(), entry.frames(), entry.height(), 2_000, seed, 1L << 40))
                    : usageError(command + ": moving-shapes are clips; " + entry.name() + " takes images");
            // Held-out images are a far index range of the same generator, as UNetTest's.
            case "shapes" -> entry.isClip() || !entry.isSegmentation()
                    ? usageError(command + ": shapes has a class per pixel, for segmentation models (unet, unet-small); "
                            + entry.name() + " gives one class per " + (entry.isClip() ? "clip" : "image"))
                    : new Datasets.Split(
                            new ShapesSegmentation(entry.channels(), entry.height(), syntheticSize > 0 ? syntheticSize
                                    : SHAPES_TRAIN_SIZE, SHAPES_SEED, 0),
                            new ShapesSegmentation(entry.channels(), entry.height(), SHAPES_TEST_SIZE, SHAPES_SEED, 1L << 40));
            case "folder" -> ImageFolders.open(directory, imageTransform(command, entry),
                    new ImageFolders.Options(this.split, HOLD_OUT_SEED, strict,
                            warning -> err.println("isthmus " + command + ": warning: " + warning)));
            default -> throw new UsageException(command + ": unknown --data '" + data
                    + "' (fashion-mnist, mnist, cifar10, synthetic, moving-shapes, shapes, folder)");
        };
        if (entry.isSegmentation() && split.train().labelShape().rank() == 0) {
            throw new UsageException(command + ": " + entry.name() + " is a segmentation model (a class per pixel) but "
                    + data + " has one class per image; use --data shapes");
        }
        Shape sample = split.train().sampleShape();
        if (entry.isClip() && !sample.equals(entry.sampleShape(sample.dim(0)))) {
            throw new UsageException(command + ": " + entry.name() + " takes clips of " + entry.sampleShape(entry.channels())
                    + " but " + data + " has samples of " + sample);
        }
        if (sample.rank() != 3 && !entry.isClip()) {
            throw new UsageException(command + ": " + entry.name() + " takes images but " + data + " has samples of " + sample);
        }
        if (sample.dim(sample.rank() - 2) != entry.height() || sample.dim(sample.rank() - 1) != entry.width()) {
            throw new UsageException(command + ": " + entry.name() + " takes " + entry.height() + "x" + entry.width()
                    + " images but " + data + " has " + sample.dim(1) + "x" + sample.dim(2));
        }
        return new Datasets.Split(limited(split.train(), limit), limited(split.test(), testLimit));
    }

    private static Datasets.Split usageError(String message) {
        throw new UsageException(message);
    }

    /** The model's channels and size, with --resize and --center-crop. */
    private ImageTransform imageTransform(String command, Zoo.Entry entry) {
        try {
            return new ImageTransform(entry.channels(), entry.height(), entry.width(), resize, centerCrop);
        } catch (IllegalArgumentException invalid) {
            throw new UsageException(command + ": " + entry.name() + " takes " + entry.height() + "x" + entry.width()
                    + " images: --center-crop must be " + entry.height() + " (" + invalid.getMessage() + ")");
        }
    }

    /**
     * Where the command line leaves them unset, takes the checkpoint's --normalize and, for --data
     * folder, its --resize and --center-crop, so eval prepares images as training did.
     */
    void defaultsFrom(InputMetadata saved) {
        if (saved == null) {
            return;
        }
        if (saved.transform() != null && resize == 0 && centerCrop == 0 && "folder".equalsIgnoreCase(data)) {
            resize = saved.transform().resize();
            centerCrop = saved.transform().centerCrop();
        }
        savedNormalization = saved.normalization();
    }

    /**
     * What the checkpoint records about the data: class names (of an image folder), the number of
     * classes, the image transform (an image folder's, or straight to the sample size for the
     * others) and the normalisation.
     */
    static InputMetadata inputMetadata(Datasets.Split data, Normalization normalization) {
        Dataset train = data.train();
        Shape sample = train.sampleShape();
        if (train instanceof ImageFolder folder) {
            return new InputMetadata(folder.classNames(), folder.classes(), folder.transform(), normalization);
        }
        // Clips have no image transform to record.
        ImageTransform transform = sample.rank() == 3 ? ImageTransform.toSize(sample.dim(0), sample.dim(1), sample.dim(2)) : null;
        return new InputMetadata(null, train.classes(), transform, normalization);
    }

    private static Dataset limited(Dataset dataset, int limit) {
        if (limit == 0 || limit >= dataset.size()) {
            return dataset;
        }
        if (dataset instanceof InMemoryDataset memory) {
            return memory.subset(0, limit);
        }
        if (dataset instanceof ImageFolder folder) {
            return folder.evenlySpaced(limit);
        }
        if (dataset instanceof ShapesSegmentation shapes) {
            return shapes.first(limit);
        }
        throw new UsageException("--limit works with file datasets only; use --synthetic-size for synthetic data");
    }

    /** The --normalize statistics, else the checkpoint's ({@link #defaultsFrom}), or null (pixels stay in [0, 1]). */
    Normalization normalization(String command) {
        if (normalize == null) {
            return savedNormalization;
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
