package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The datasets Isthmus knows by name, each as a training and a test split. */
public final class Datasets {
    /** Where Debian's dataset-fashion-mnist package installs the files. */
    public static final Path FASHION_MNIST_DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    static final String CIFAR10_FOLDER = "cifar-10-batches-bin";
    static final List<String> CIFAR10_TRAIN_FILES = List.of(
            "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    static final String CIFAR10_TEST_FILE = "test_batch.bin";

    private Datasets() {
    }

    /**
     * A dataset's training and test parts.
     *
     * @param train the training set
     * @param test the test part
     */
    public record Split(Dataset train, Dataset test) {
        /** Checks that both parts are present. */
        public Split {
            if (train == null || test == null) {
                throw new IllegalArgumentException("Split: train and test must not be null");
            }
        }
    }

    /**
     * Fashion-MNIST (60000 training and 10000 test images of 1x28x28, 10 classes) from
     * {@code directory}, or from {@link #FASHION_MNIST_DEBIAN_DIR} when it is null.
     *
     * @param directory the folder with the files
     * @return the training and test parts
     * @throws IOException when reading or writing the file fails
     */
    public static Split fashionMnist(Path directory) throws IOException {
        Path folder = directory == null ? FASHION_MNIST_DEBIAN_DIR : directory;
        String howToGet = "Install them with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; files go to "
                + FASHION_MNIST_DEBIAN_DIR + "), or download them from "
                + "https://github.com/zalandoresearch/fashion-mnist and pass --data-dir DIR.";
        return idxSplit("fashion-mnist", "Fashion-MNIST", folder, howToGet);
    }

    /**
     * MNIST (60000 training and 10000 test images of 1x28x28, 10 classes); it has no standard folder.
     *
     * @param directory the folder with the files
     * @return the training and test parts
     * @throws IOException when reading or writing the file fails
     */
    public static Split mnist(Path directory) throws IOException {
        String howToGet = "Download the four files from https://yann.lecun.com/exdb/mnist/ (or a mirror) "
                + "and pass --data-dir DIR.";
        if (directory == null) {
            throw new DatasetNotFoundException("MNIST has no default folder; it needs " + idxFileList() + ". "
                    + howToGet);
        }
        return idxSplit("mnist", "MNIST", directory, howToGet);
    }

    private static Split idxSplit(String name, String title, Path folder, String howToGet) throws IOException {
        List<String> missing = new ArrayList<>();
        Path trainImages = idxFile(folder, TRAIN_IMAGES, missing);
        Path trainLabels = idxFile(folder, TRAIN_LABELS, missing);
        Path testImages = idxFile(folder, TEST_IMAGES, missing);
        Path testLabels = idxFile(folder, TEST_LABELS, missing);
        if (!missing.isEmpty()) {
            throw new DatasetNotFoundException(title + " not found: looked in " + folder
                    + (Files.isDirectory(folder) ? "" : " (no such folder)") + " for " + idxFileList()
                    + "; missing " + String.join(", ", missing) + ". " + howToGet);
        }
        return new Split(IdxFiles.read(trainImages, trainLabels, name + " train", 10),
                IdxFiles.read(testImages, testLabels, name + " test", 10));
    }

    private static String idxFileList() {
        return String.join(", ", List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS).stream()
                .map(file -> file + "[.gz]").toList());
    }

    /** The file, gzipped or not; adds its name to {@code missing} when neither exists. */
    private static Path idxFile(Path folder, String name, List<String> missing) {
        for (Path candidate : List.of(folder.resolve(name + ".gz"), folder.resolve(name))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        missing.add(name + "[.gz]");
        return null;
    }

    /**
     * CIFAR-10 (50000 training and 10000 test images of 3x32x32, 10 classes), binary version, from
     * the cifar-10-batches-bin folder or the folder that contains it.
     *
     * @param directory the folder with the files
     * @return the training and test parts
     * @throws IOException when reading or writing the file fails
     */
    public static Split cifar10(Path directory) throws IOException {
        String howToGet = "Download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, unpack it "
                + "(tar xzf) and pass --data-dir DIR (the " + CIFAR10_FOLDER + " folder or its parent).";
        List<String> expected = new ArrayList<>(CIFAR10_TRAIN_FILES);
        expected.add(CIFAR10_TEST_FILE);
        if (directory == null) {
            throw new DatasetNotFoundException("CIFAR-10 has no default folder; it needs " + String.join(", ", expected)
                    + ". " + howToGet);
        }
        List<Path> folders = List.of(directory, directory.resolve(CIFAR10_FOLDER));
        for (Path folder : folders) {
            if (expected.stream().allMatch(file -> Files.isRegularFile(folder.resolve(file)))) {
                List<Path> train = CIFAR10_TRAIN_FILES.stream().map(folder::resolve).toList();
                return new Split(Cifar10.read(train, "cifar-10 train"),
                        Cifar10.read(List.of(folder.resolve(CIFAR10_TEST_FILE)), "cifar-10 test"));
            }
        }
        List<String> missing = expected.stream().filter(file -> !Files.isRegularFile(directory.resolve(file))).toList();
        throw new DatasetNotFoundException("CIFAR-10 (binary version) not found: looked in " + folders.get(0) + " and "
                + folders.get(1) + " for " + String.join(", ", expected) + "; missing in " + directory + ": "
                + String.join(", ", missing) + ". " + howToGet);
    }

    /**
     * Generated class-correlated images (see {@link SyntheticDataset}): the training set is samples
     * [0, trainSize) of the generator for {@code seed}, the test set the next {@code testSize}.
     *
     * @param sampleShape the shape of one sample, [C, H, W]
     * @param classes the number of classes
     * @param trainSize the training samples
     * @param testSize the test samples
     * @param seed the seed
     * @return the training and test parts
     */
    public static Split synthetic(Shape sampleShape, int classes, int trainSize, int testSize, long seed) {
        if (trainSize < 1 || testSize < 0) {
            throw new IllegalArgumentException("Datasets.synthetic: need trainSize >= 1 and testSize >= 0, got "
                    + trainSize + " and " + testSize);
        }
        return new Split(new SyntheticDataset(sampleShape, classes, trainSize, seed, 0),
                new SyntheticDataset(sampleShape, classes, testSize, seed, trainSize));
    }
}
