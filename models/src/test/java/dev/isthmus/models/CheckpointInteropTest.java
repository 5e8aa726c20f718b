package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PyTorch state_dicts load and give PyTorch's logits; Isthmus checkpoints round-trip and keep PyTorch's keys. */
class CheckpointInteropTest {
    private static CpuDevice device;

    @TempDir
    Path folder;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static Path fixture(String name) {
        try {
            return Path.of(CheckpointInteropTest.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "resnet20"})
    void aPyTorchStateDictGivesPyTorchsLogits(String name) throws IOException {
        try (Model model = Zoo.entry(name).create(); SafeTensors io = SafeTensors.open(fixture(name + "_io.safetensors"))) {
            Shape input = Shape.of(io.entry("input").shape());
            model.build(device, input.dim(0), 123);
            Checkpoint.load(fixture(name + "_trained.safetensors"), model, null);
            try (Tensor x = device.fromArray(input, io.floats("input"))) {
                float[] logits = model.forward(x, false).toFloatArray();
                float[] expected = io.floats("logits");
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], 1e-4 * (1 + Math.abs(expected[i])), name + " logit " + i);
                }
            }
            if (name.equals("resnet20")) {
                assertEquals(3L, model.counters().get("bn1.num_batches_tracked"));
            }
        }
    }

    @Test
    void anIsthmusCheckpointHoldsExactlyPyTorchsKeysPlusOptimizerState() throws IOException {
        Path saved = folder.resolve("resnet20.safetensors");
        try (Model model = Zoo.entry("resnet20").create()) {
            model.build(device, 2, 5);
            try (Sgd sgd = new Sgd(model.parameters(), 0.1, 0.9, 0, 0, false)) {
                Checkpoint.save(saved, model, sgd, Map.of("completed_epochs", 1));
            }
        }
        Set<String> pytorchKeys = new TreeSet<>();
        try (SafeTensors reference = SafeTensors.open(fixture("resnet20_trained.safetensors"))) {
            pytorchKeys.addAll(reference.entries().keySet());
        }
        try (SafeTensors ours = SafeTensors.open(saved)) {
            Set<String> modelKeys = new TreeSet<>();
            for (String key : ours.entries().keySet()) {
                if (!key.startsWith("optimizer.")) {
                    modelKeys.add(key);
                    assertEquals(ours.entry(key).dtype(), key.endsWith("num_batches_tracked") ? "I64" : "F32");
                } else {
                    assertTrue(key.endsWith(".momentum_buffer"), key);
                }
            }
            assertEquals(pytorchKeys, modelKeys);
            assertTrue(ours.metadata().get("isthmus").contains("completed_epochs"));
        }
    }

    @Test
    void saveThenLoadRestoresEverything() throws IOException {
        Path saved = folder.resolve("lenet.safetensors");
        float[] before;
        try (Model model = Zoo.entry("lenet5").create(); Tensor x = device.fromArray(Shape.of(2, 1, 28, 28),
                dev.isthmus.testing.TestData.uniform(2 * 28 * 28, 1, 3))) {
            model.build(device, 2, 42);
            before = model.forward(x, false).toFloatArray();
            Checkpoint.save(saved, model, null, null);
        }
        try (Model model = Zoo.entry("lenet5").create(); Tensor x = device.fromArray(Shape.of(2, 1, 28, 28),
                dev.isthmus.testing.TestData.uniform(2 * 28 * 28, 1, 3))) {
            model.build(device, 2, 7);
            Checkpoint.load(saved, model, null);
            assertArrayEquals(before, model.forward(x, false).toFloatArray());
        }
        assertEquals(1, countFiles(folder), "no temporary files left behind");
    }

    private static long countFiles(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.count();
        }
    }

    @Test
    void aMismatchedCheckpointNamesTheTensorAndBothShapes() throws IOException {
        try (Model model = Zoo.entry("lenet5").create(1, 7)) {
            model.build(device, 1, 0);
            IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.load(fixture("lenet5_trained.safetensors"), model, null));
            assertTrue(mismatch.getMessage().contains("fc3.weight has shape [10, 84] in the file, the model expects [7, 84]"),
                    mismatch.getMessage());
        }
        try (Model model = Zoo.entry("resnet20").create()) {
            model.build(device, 1, 0);
            IllegalArgumentException wrongModel = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.load(fixture("lenet5_trained.safetensors"), model, null));
            assertTrue(wrongModel.getMessage().contains("missing conv1.weight") || wrongModel.getMessage().contains("conv1.weight has shape"),
                    wrongModel.getMessage());
            assertTrue(wrongModel.getMessage().contains("unexpected tensor fc1.weight"), wrongModel.getMessage());
        }
    }
}
