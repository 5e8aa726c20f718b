package dev.isthmus.data;

import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetsTest {
    @TempDir
    Path folder;

    private static void assertContainsAll(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "missing \"" + part + "\" in: " + message);
        }
    }

    @Test
    void missingFashionMnistSaysWhereAndHow() {
        Path nowhere = folder.resolve("nowhere");
        DatasetNotFoundException missing = assertThrows(DatasetNotFoundException.class,
                () -> Datasets.fashionMnist(nowhere));
        assertContainsAll(missing.getMessage(), "Fashion-MNIST", nowhere.toString(), "no such folder",
                "train-images-idx3-ubyte[.gz]", "train-labels-idx1-ubyte[.gz]", "t10k-images-idx3-ubyte[.gz]",
                "t10k-labels-idx1-ubyte[.gz]", "apt-get install dataset-fashion-mnist", "--data-dir DIR");
    }

    @Test
    void partlyMissingFilesAreNamed() {
        TestFiles.write(folder.resolve("train-images-idx3-ubyte.gz"), TestFiles.gzip(TestFiles.imagesFile(2, 28, 28)));
        TestFiles.write(folder.resolve("train-labels-idx1-ubyte"), TestFiles.labelsFile((byte) 1, (byte) 2));
        DatasetNotFoundException missing = assertThrows(DatasetNotFoundException.class, () -> Datasets.mnist(folder));
        String message = missing.getMessage();
        assertContainsAll(message, "MNIST", folder.toString(), "missing t10k-images-idx3-ubyte[.gz], "
                + "t10k-labels-idx1-ubyte[.gz].", "--data-dir DIR");
        assertFalse(message.contains("no such folder"), message);
        assertContainsAll(assertThrows(DatasetNotFoundException.class, () -> Datasets.mnist(null)).getMessage(),
                "no default folder", "train-images-idx3-ubyte[.gz]", "--data-dir DIR");
    }

    @Test
    void readsMnistNamedFilesWithAndWithoutGzip() throws IOException {
        TestFiles.write(folder.resolve("train-images-idx3-ubyte.gz"), TestFiles.gzip(TestFiles.imagesFile(3, 28, 28)));
        TestFiles.write(folder.resolve("train-labels-idx1-ubyte"), TestFiles.labelsFile((byte) 1, (byte) 2, (byte) 3));
        TestFiles.write(folder.resolve("t10k-images-idx3-ubyte"), TestFiles.imagesFile(2, 28, 28));
        TestFiles.write(folder.resolve("t10k-labels-idx1-ubyte.gz"), TestFiles.gzip(TestFiles.labelsFile((byte) 4, (byte) 5)));
        Datasets.Split split = Datasets.mnist(folder);
        assertEquals(3, split.train().size());
        assertEquals(2, split.test().size());
        assertEquals(5, split.test().label(1));
        assertTrue(split.test().describe().startsWith("mnist test: 2 samples of [1, 28, 28], 10 classes"),
                split.test().describe());
    }

    @Test
    void cifar10FromTheBatchesFolderOrItsParent() throws IOException {
        Path batches = folder.resolve(Datasets.CIFAR10_FOLDER);
        int label = 0;
        for (String file : Datasets.CIFAR10_TRAIN_FILES) {
            TestFiles.write(batches.resolve(file), TestFiles.cifarRecords(label++, label++));
        }
        TestFiles.write(batches.resolve(Datasets.CIFAR10_TEST_FILE), TestFiles.cifarRecords(4));
        for (Path directory : List.of(folder, batches)) {
            Datasets.Split split = Datasets.cifar10(directory);
            assertEquals(10, split.train().size());
            assertEquals(9, split.train().label(9));
            assertEquals(1, split.test().size());
            assertEquals(4, split.test().label(0));
        }
        DatasetNotFoundException missing = assertThrows(DatasetNotFoundException.class,
                () -> Datasets.cifar10(folder.resolve("elsewhere")));
        assertContainsAll(missing.getMessage(), "CIFAR-10", "elsewhere", "cifar-10-batches-bin", "data_batch_1.bin",
                "test_batch.bin", "cifar-10-binary.tar.gz", "--data-dir DIR");
    }

    @Test
    void syntheticSplitsShareTemplatesButNotSamples() {
        Datasets.Split split = Datasets.synthetic(Shape.of(3, 4, 4), 5, 100, 20, 42);
        assertEquals(100, split.train().size());
        assertEquals(20, split.test().size());
        // The test set continues the training set's generator.
        SyntheticDataset whole = new SyntheticDataset(Shape.of(3, 4, 4), 5, 120, 42);
        for (int i = 0; i < 20; i++) {
            assertEquals(whole.label(100 + i), split.test().label(i));
        }
        assertThrows(IllegalArgumentException.class, () -> Datasets.synthetic(Shape.of(3, 4, 4), 5, 0, 20, 42));
    }
}
