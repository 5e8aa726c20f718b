package dev.isthmus.cli;

import dev.isthmus.data.Dataset;
import dev.isthmus.data.Datasets;
import dev.isthmus.data.ImageFolder;
import dev.isthmus.data.ImageFolders;
import dev.isthmus.data.ImageTransform;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.InputMetadata;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Your own images in: a folder of PNGs made from Fashion-MNIST (four classes, 300 training and 100
 * test images each, one undecodable and one truncated file among them) trains LeNet-5 as well as
 * the same images from the IDX files; predict agrees with the model's own forward pass; eval with
 * the checkpoint reproduces training's test accuracy; mistakes end with a one-line reason.
 */
class ImageFolderEndToEndTest {
    /** Fashion-MNIST labels and the folder names they get; sorted, the names give labels 0..3. */
    private static final int[] FASHION_LABELS = {2, 7, 0, 1};
    private static final List<String> CLASSES = List.of("pullover", "sneaker", "t-shirt", "trouser");
    private static final int TRAIN_PER_CLASS = 300;
    private static final int TEST_PER_CLASS = 100;

    @TempDir
    static Path root;

    private static Path images;
    private static Path garbage;
    private static Path truncated;
    /** The readable training images in the folder's order (class, then name), with folder labels. */
    private static InMemoryDataset idxTrain;
    private static InMemoryDataset idxTest;

    @BeforeAll
    static void writeFolder() throws IOException {
        Datasets.Split fashion = Datasets.fashionMnist(null);
        images = root.resolve("images");
        ByteArrayCollector train = new ByteArrayCollector();
        ByteArrayCollector test = new ByteArrayCollector();
        for (int label = 0; label < CLASSES.size(); label++) {
            writeClass(fashion.train(), FASHION_LABELS[label], TRAIN_PER_CLASS, images.resolve("train").resolve(CLASSES.get(label)),
                    label, train);
            writeClass(fashion.test(), FASHION_LABELS[label], TEST_PER_CLASS, images.resolve("test").resolve(CLASSES.get(label)),
                    label, test);
        }
        // Named to sort last in their classes: one is not an image at all, the other is cut in half.
        garbage = images.resolve("train/t-shirt/99999-corrupt.png");
        Files.writeString(garbage, "this is not a PNG");
        Path whole = ImageFolders.imageFiles(images.resolve("train/sneaker")).getFirst();
        truncated = images.resolve("train/sneaker/99999-truncated.png");
        byte[] bytes = Files.readAllBytes(whole);
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        idxTrain = train.dataset("idx train");
        idxTest = test.dataset("idx test");
    }

    /** The first {@code count} images of {@code fashionLabel} as PNGs named by their IDX index. */
    private static void writeClass(Dataset source, int fashionLabel, int count, Path folder, int label,
                                   ByteArrayCollector collector) throws IOException {
        Files.createDirectories(folder);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, 784);
            int written = 0;
            for (int index = 0; written < count; index++) {
                if (source.label(index) != fashionLabel) {
                    continue;
                }
                source.read(index, sample, 0);
                byte[] pixels = new byte[784];
                int[] values = new int[784];
                for (int i = 0; i < 784; i++) {
                    values[i] = Math.round(sample.getAtIndex(ValueLayout.JAVA_FLOAT, i) * 255);
                    pixels[i] = (byte) values[i];
                }
                BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                image.getRaster().setPixels(0, 0, 28, 28, values);
                String name = String.format("%05d-%s.png", index, folder.getFileName());
                assertTrue(ImageIO.write(image, "png", folder.resolve(name).toFile()));
                collector.add(pixels, label);
                written++;
            }
        }
    }

    /** Pixels and labels gathered in order, for an in-memory dataset of the same images. */
    private static final class ByteArrayCollector {
        private final List<byte[]> samples = new ArrayList<>();
        private final List<Integer> labels = new ArrayList<>();

        void add(byte[] pixels, int label) {
            samples.add(pixels);
            labels.add(label);
        }

        InMemoryDataset dataset(String name) {
            byte[] pixels = new byte[samples.size() * 784];
            for (int i = 0; i < samples.size(); i++) {
                System.arraycopy(samples.get(i), 0, pixels, i * 784, 784);
            }
            return new InMemoryDataset(name, Shape.of(1, 28, 28), CLASSES.size(), pixels,
                    labels.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    private static final String[] TRAINING = {"--epochs", "2", "--batch", "32", "--threads", "2"};

    private static String[] train(String... more) {
        List<String> args = new ArrayList<>(List.of("train", "lenet5", "--data", "folder", "--data-dir", images.toString()));
        args.addAll(List.of(TRAINING));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void leNet5LearnsTheFolderAsWellAsTheSameImagesFromIdxAndPredictAgreesWithItsForwardPass() throws IOException {
        Path checkpoint = root.resolve("folder.safetensors");
        CommandLineTest.Run trained = CommandLineTest.run(train("--checkpoint", checkpoint.toString(), "--json"));
        assertEquals(0, trained.status(), trained.err());
        // Each bad file is reported once, by name: the undecodable one when the folder is opened,
        // the truncated one the first time its pixels are read.
        assertEquals(1, trained.err().lines().filter(line -> line.contains(garbage.toString())).count(), trained.err());
        assertEquals(1, trained.err().lines().filter(line -> line.contains(truncated.toString())).count(), trained.err());
        double folderAccuracy = ((Number) trained.json().get("test_accuracy")).doubleValue();

        double idxAccuracy;
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry("lenet5").create(1, CLASSES.size());
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, 32, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(2, 32, 0))) {
                idxAccuracy = trainer.fit(idxTrain, idxTest).getLast().validation().accuracy();
            }
        }
        // Chance is 25%. The runs differ only by the two bad files (one fewer sample, one substituted),
        // so the order of the batches differs, not the images.
        assertTrue(folderAccuracy > 0.75 && idxAccuracy > 0.75, "folder " + folderAccuracy + ", idx " + idxAccuracy);
        assertTrue(Math.abs(folderAccuracy - idxAccuracy) < 0.04, "folder " + folderAccuracy + ", idx " + idxAccuracy);

        InputMetadata saved = InputMetadata.read(checkpoint);
        assertEquals(CLASSES, saved.classNames());
        assertEquals(ImageTransform.toSize(1, 28, 28), saved.transform());

        // eval brings back training's test accuracy from the checkpoint.
        CommandLineTest.Run evaluated = CommandLineTest.run("eval", "lenet5", "--checkpoint", checkpoint.toString(), "--data",
                "folder", "--data-dir", images.toString(), "--batch", "32", "--threads", "2", "--json");
        assertEquals(0, evaluated.status(), evaluated.err());
        assertEquals(folderAccuracy, ((Number) evaluated.json().get("test_accuracy")).doubleValue(), 1e-12);

        // predict on the held-out PNGs: the classes of the model's own forward pass on the same tensors.
        Path testFolder = images.resolve("test");
        CommandLineTest.Run predicted = CommandLineTest.run("predict", "lenet5", "--checkpoint", checkpoint.toString(),
                testFolder.toString(), "--top", "2", "--batch", "48", "--threads", "2", "--json");
        assertEquals(0, predicted.status(), predicted.err());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> predictions = (List<Map<String, Object>>) predicted.json().get("predictions");
        ImageFolder test = (ImageFolder) ImageFolders.open(images, ImageTransform.toSize(1, 28, 28),
                new ImageFolders.Options(0, 0, false, message -> { })).test();
        assertEquals(test.size(), predictions.size());
        int[] forward = forwardClasses(checkpoint, test);
        int correct = 0;
        for (int i = 0; i < test.size(); i++) {
            Map<String, Object> prediction = predictions.get(i);
            assertEquals(test.file(i).toString(), prediction.get("file"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> top = (List<Map<String, Object>>) prediction.get("top");
            assertEquals(2, top.size());
            int index = ((Number) top.getFirst().get("index")).intValue();
            assertEquals(forward[i], index, "image " + test.file(i));
            assertEquals(CLASSES.get(index), top.getFirst().get("class"));
            double first = ((Number) top.get(0).get("probability")).doubleValue();
            double second = ((Number) top.get(1).get("probability")).doubleValue();
            assertTrue(first >= second && first + second <= 1 + 1e-9 && second >= 0, top.toString());
            correct += index == test.label(i) ? 1 : 0;
        }
        // The same classes as eval counted: its accuracy again.
        assertEquals(folderAccuracy, (double) correct / test.size(), 1e-12);
        assertTrue(predicted.out().contains(test.file(0) + ": "), predicted.out().lines().findFirst().orElse(""));
    }

    /** argmax of the checkpoint's logits for every sample of {@code dataset}, one forward pass per sample. */
    private static int[] forwardClasses(Path checkpoint, ImageFolder dataset) throws IOException {
        int[] classes = new int[dataset.size()];
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry("lenet5").create(1, CLASSES.size());
             Arena arena = Arena.ofConfined()) {
            model.build(device, 1, 0);
            Checkpoint.load(checkpoint, model, null);
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, 784);
            try (Tensor input = device.allocateActivation(model.batchShape(1))) {
                for (int i = 0; i < dataset.size(); i++) {
                    dataset.read(i, sample, 0);
                    device.copyFromHost(sample, input);
                    float[] logits = model.forward(input, false).toFloatArray();
                    int best = 0;
                    for (int c = 1; c < logits.length; c++) {
                        best = logits[c] > logits[best] ? c : best;
                    }
                    classes[i] = best;
                }
            }
        }
        return classes;
    }

    @Test
    void strictStopsAtTheUnreadableFileNamingIt() {
        CommandLineTest.Run strict = CommandLineTest.run(train("--strict"));
        assertEquals(1, strict.status(), strict.out());
        assertEquals(1, strict.err().lines().count(), strict.err());
        assertTrue(strict.err().contains(garbage.toString()), strict.err());
    }

    @Test
    void evalTakesTheResizeAndNormalizationOfTrainingAndPredictSkipsAnUnreadableImageOrFailsWithStrict() throws IOException {
        Path checkpoint = root.resolve("predict.safetensors");
        CommandLineTest.Run trained = CommandLineTest.run("train", "lenet5", "--data", "folder", "--data-dir", images.toString(),
                "--resize", "30", "--normalize", "0.2860/0.3530", "--epochs", "1", "--limit", "64", "--test-limit", "40",
                "--threads", "2", "--checkpoint", checkpoint.toString(), "--json");
        assertEquals(0, trained.status(), trained.err());
        InputMetadata saved = InputMetadata.read(checkpoint);
        assertEquals(new ImageTransform(1, 28, 28, 30, 0), saved.transform());
        assertEquals(0.2860f, saved.normalization().mean()[0]);
        // eval without --resize and --normalize prepares the images as training did: the same loss and accuracy.
        CommandLineTest.Run evaluated = CommandLineTest.run("eval", "lenet5", "--checkpoint", checkpoint.toString(), "--data",
                "folder", "--data-dir", images.toString(), "--test-limit", "40", "--batch", "64", "--threads", "2", "--json");
        assertEquals(0, evaluated.status(), evaluated.err());
        assertEquals(((Number) trained.json().get("test_accuracy")).doubleValue(),
                ((Number) evaluated.json().get("test_accuracy")).doubleValue(), 1e-12);
        assertEquals(((Number) trained.json().get("test_loss")).doubleValue(),
                ((Number) evaluated.json().get("test_loss")).doubleValue(), 1e-6);

        Path good = images.resolve("test/trouser").toFile().listFiles()[0].toPath();
        // Other class names than training's: accuracy would be meaningless, so eval refuses.
        Path renamed = root.resolve("renamed");
        for (String split : List.of("train", "test")) {
            for (String name : List.of("a", "b", "c", "d")) {
                Files.createDirectories(renamed.resolve(split).resolve(name));
                Files.copy(good, renamed.resolve(split).resolve(name).resolve("1.png"));
            }
        }
        CommandLineTest.Run mismatch = CommandLineTest.run("eval", "lenet5", "--checkpoint", checkpoint.toString(), "--data",
                "folder", "--data-dir", renamed.toString(), "--threads", "2");
        assertEquals(1, mismatch.status(), mismatch.err());
        assertTrue(mismatch.err().contains(CLASSES.toString()) && mismatch.err().contains("[a, b, c, d]"), mismatch.err());

        CommandLineTest.Run lenient = CommandLineTest.run("predict", "lenet5", "--checkpoint", checkpoint.toString(),
                good.toString(), garbage.toString(), "--threads", "2", "--json");
        assertEquals(0, lenient.status(), lenient.err());
        assertTrue(lenient.err().contains(garbage.toString()), lenient.err());
        assertEquals(1, ((List<?>) lenient.json().get("predictions")).size());
        assertEquals(1, ((List<?>) lenient.json().get("skipped")).size());

        CommandLineTest.Run strict = CommandLineTest.run("predict", "lenet5", "--checkpoint", checkpoint.toString(),
                good.toString(), truncated.toString(), "--strict", "--threads", "2");
        assertEquals(1, strict.status(), strict.out());
        assertEquals(1, strict.err().lines().count(), strict.err());
        assertTrue(strict.err().contains(truncated.toString()), strict.err());

        // A checkpoint that does not fit the model: other input size, other layers.
        for (String model : List.of("vgg-small", "mlp")) {
            CommandLineTest.Run misfit = CommandLineTest.run("predict", model, "--checkpoint", checkpoint.toString(),
                    good.toString(), "--threads", "2");
            assertEquals(1, misfit.status(), model + ": " + misfit.err());
            assertEquals(1, misfit.err().lines().count(), misfit.err());
            assertTrue(misfit.err().contains(checkpoint.toString()), misfit.err());
        }
    }

    @Test
    void anEmptyClassFolderIsRefusedNamingIt() throws IOException {
        Path small = root.resolve("small");
        for (String split : List.of("train", "test")) {
            Files.createDirectories(small.resolve(split).resolve("a"));
            Files.copy(images.resolve("test/trouser").toFile().listFiles()[0].toPath(), small.resolve(split).resolve("a/1.png"));
            Files.createDirectories(small.resolve(split).resolve("empty"));
        }
        CommandLineTest.Run run = CommandLineTest.run("train", "lenet5", "--data", "folder", "--data-dir", small.toString(),
                "--epochs", "1", "--threads", "2");
        assertEquals(1, run.status(), run.out());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains(small.resolve("train/empty").toString()), run.err());
    }

    @Test
    void inspectCountsClassesSplitsAndSizes() {
        CommandLineTest.Run inspect = CommandLineTest.run("data", "inspect", images.toString(), "--json");
        assertEquals(0, inspect.status(), inspect.err());
        Map<String, Object> json = inspect.json();
        assertEquals(CLASSES, json.get("classes"));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> splits = (Map<String, Map<String, Object>>) json.get("splits");
        // The truncated file's header reads, so it is counted; the undecodable one is not.
        assertEquals(4L * TRAIN_PER_CLASS + 1, ((Number) splits.get("train").get("total")).longValue());
        assertEquals(Map.of("pullover", 300L, "sneaker", 301L, "t-shirt", 300L, "trouser", 300L),
                splits.get("train").get("per_class"));
        assertEquals(4L * TEST_PER_CLASS, ((Number) splits.get("test").get("total")).longValue());
        @SuppressWarnings("unchecked")
        Map<String, Object> sizes = (Map<String, Object>) json.get("sizes");
        assertEquals("28x28", sizes.get("most_common"));
        assertEquals(1L, sizes.get("distinct"));
        assertEquals(1, ((List<?>) json.get("unreadable")).size());
        assertTrue(inspect.out().contains("sneaker"), inspect.out());

        CommandLineTest.Run usage = CommandLineTest.run("train", "lenet5", "--data", "folder", "--data-dir", images.toString(),
                "--center-crop", "24");
        assertEquals(2, usage.status(), usage.err());
        CommandLineTest.Run notFolder = CommandLineTest.run("train", "lenet5", "--resize", "32");
        assertEquals(2, notFolder.status(), notFolder.err());
    }
}
