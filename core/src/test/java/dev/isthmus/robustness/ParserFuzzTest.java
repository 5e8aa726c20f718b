package dev.isthmus.robustness;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.isthmus.data.Cifar10;
import dev.isthmus.data.IdxFiles;
import dev.isthmus.io.FileFormatException;
import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzz targets for every parser of outside data: safetensors (checkpoints), IDX (MNIST and
 * Fashion-MNIST, raw or gzip), CIFAR-10 binary and JSON (checkpoint metadata). A parser may refuse
 * an input only with FileFormatException (naming file and offset), an IOException, or for JSON its
 * ParseException; anything else — an index error, a NegativeArraySizeException, an
 * OutOfMemoryError from trusting a length, a hang — is a finding.
 *
 * <p>In the normal test run (JUnit, regression mode) each target replays the committed corpus
 * under src/test/resources/dev/isthmus/robustness/ParserFuzzTestInputs/. To fuzz:
 * {@code JAZZER_FUZZ=1 mvn -pl core test -Dtest=ParserFuzzTest#safetensors} (one target per run);
 * then copy the new interesting inputs from .cifuzz-corpus into the inputs folder and commit them.
 */
class ParserFuzzTest {
    private static final Path SCRATCH = scratch();

    private static Path scratch() {
        try {
            Path shm = Path.of("/dev/shm");
            return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "isthmus-fuzz")
                    : Files.createTempDirectory("isthmus-fuzz");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path file(String name, byte[] content) throws IOException {
        Path file = SCRATCH.resolve(name);
        Files.write(file, content);
        return file;
    }

    @FuzzTest(maxDuration = "30s")
    void safetensors(byte[] data) throws IOException {
        Path file = file("fuzz.safetensors", data);
        try (SafeTensors tensors = SafeTensors.open(file)) {
            for (SafeTensors.Entry entry : tensors.entries().values()) {
                switch (entry.dtype()) {
                    case "F32" -> tensors.floats(entry.name());
                    case "I32", "I64" -> tensors.ints(entry.name());
                    default -> tensors.bytes(entry.name());
                }
            }
            tensors.metadata().size();
        } catch (FileFormatException refused) {
            requireLocated(refused, file);
        }
    }

    /** The first two bytes say where the image file ends and the label file begins. */
    @FuzzTest(maxDuration = "30s")
    void idx(byte[] data) throws IOException {
        int split = data.length < 2 ? 0 : Math.min(data.length - 2, ((data[0] & 0xff) << 8) | (data[1] & 0xff));
        byte[] images = java.util.Arrays.copyOfRange(data, Math.min(2, data.length), Math.min(2, data.length) + split);
        byte[] labels = java.util.Arrays.copyOfRange(data, Math.min(2, data.length) + split, data.length);
        Path imageFile = file("images.idx", images);
        Path labelFile = file("labels.idx", labels);
        try {
            IdxFiles.read(imageFile, labelFile, "fuzz", 10);
        } catch (FileFormatException refused) {
            if (!refused.file().equals(imageFile) && !refused.file().equals(labelFile)) {
                throw new AssertionError("refusal names " + refused.file(), refused);
            }
        }
    }

    @FuzzTest(maxDuration = "30s")
    void cifar10(byte[] data) throws IOException {
        Path file = file("data_batch_1.bin", data);
        try {
            Cifar10.read(List.of(file));
        } catch (FileFormatException refused) {
            requireLocated(refused, file);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void json(byte[] data) {
        try {
            Json.parse(new String(data, java.nio.charset.StandardCharsets.UTF_8));
        } catch (Json.ParseException refused) {
            if (refused.offset() < 0) {
                throw new AssertionError("negative offset", refused);
            }
        }
    }

    private static void requireLocated(FileFormatException refused, Path file) {
        if (!refused.file().equals(file) || refused.offset() < 0 || !refused.getMessage().contains(file.toString())) {
            throw new AssertionError("a refusal must name the file and a byte offset: " + refused.getMessage(), refused);
        }
    }
}
