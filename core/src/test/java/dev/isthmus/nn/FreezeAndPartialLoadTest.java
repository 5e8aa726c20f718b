package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.LoadReport;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Freezing layers by name (no gradient, no optimizer state, no backward below them) and loading what fits. */
class FreezeAndPartialLoadTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    private static Model network(int classes) {
        return new Model("net", new Sequential()
                .add("features", new Sequential(Conv2d.of(1, 3, 3).padding(1), new BatchNorm2d(3), new ReLU()))
                .add("mid", new Sequential(Conv2d.of(3, 2, 3).padding(1), new ReLU()))
                .add(new Flatten()).add("fc", new Linear(2 * 4 * 4, classes)), Shape.of(1, 4, 4));
    }

    @Test
    void frozenLayersKeepTheirWeightsGetNoGradientAndBackwardStopsAboveThem() {
        try (Model model = network(3); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            List<String> frozen = model.freeze(List.of("features"));
            assertEquals(List.of("features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias"), frozen);
            model.build(device, 4, 1);
            List<String> trainable = model.trainableParameters().stream().map(Parameter::name).toList();
            assertEquals(List.of("mid.0.weight", "mid.0.bias", "fc.weight", "fc.bias"), trainable);
            List<String> backwardVisits = new ArrayList<>();
            model.addHook(new LayerHook() {
                @Override
                public void beforeBackward(Layer layer) {
                    backwardVisits.add(layer.describe());
                }
            });
            List<float[]> before = new ArrayList<>();
            for (Parameter parameter : model.parameters()) {
                before.add(parameter.value().toFloatArray());
            }
            try (Optimizer sgd = new Sgd(model.trainableParameters(), 0.1, 0.9, 0, 1e-3, false);
                 Tensor x = device.fromArray(model.batchShape(4), TestData.uniform(64, 1.0, 2));
                 Tensor labels = device.fromInts(Shape.of(4), TestData.labels(4, 3, 3))) {
                assertTrue(sgd.isFused(), "the trainable parameters are one block: the step stays fused");
                assertEquals(2, sgd.state().size() / 2, "state for the trainable parameters only");
                for (int step = 0; step < 3; step++) {
                    sgd.zeroGrad();
                    loss.forward(model.forward(x, true), labels, true);
                    model.backward(loss.backward());
                    sgd.step();
                }
            }
            for (int i = 0; i < model.parameters().size(); i++) {
                Parameter parameter = model.parameters().get(i);
                if (frozen.contains(parameter.name())) {
                    assertArrayEquals(before.get(i), parameter.value().toFloatArray(), parameter.name() + " is bit-identical");
                    for (float g : parameter.grad().toFloatArray()) {
                        assertEquals(0f, g, parameter.name() + " has no gradient");
                    }
                } else {
                    assertFalse(java.util.Arrays.equals(before.get(i), parameter.value().toFloatArray()), parameter.name() + " trained");
                }
            }
            assertFalse(backwardVisits.stream().anyMatch(name -> name.startsWith("BatchNorm2d") || name.startsWith("Conv2d(1,")),
                    "backward never reaches the frozen layers below the lowest trainable one: " + backwardVisits);
        }
    }

    @Test
    void freezingNeedsALayerNameAndComesBeforeBuild() {
        try (Model model = network(3)) {
            IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> model.freeze(List.of("feature")));
            assertTrue(unknown.getMessage().contains("'feature'") && unknown.getMessage().contains("features.0"), unknown.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.freeze(List.of("fc.weight")), "whole layers freeze");
            model.build(device, 2, 0);
            assertThrows(IllegalStateException.class, () -> model.freeze(List.of("fc")));
        }
    }

    @Test
    void loadMatchingLoadsWhatFitsAndListsTheRest(@TempDir Path folder) throws Exception {
        Path file = folder.resolve("ten.safetensors");
        try (Model ten = network(10).build(device, 2, 5)) {
            Checkpoint.save(file, ten, null, Map.of("epoch", 3));
            try (Model five = new Model("net", new Sequential()
                    .add("features", new Sequential(Conv2d.of(1, 3, 3).padding(1), new BatchNorm2d(3), new ReLU()))
                    .add("other", new Sequential(Conv2d.of(3, 2, 3).padding(1), new ReLU()))
                    .add(new Flatten()).add("fc", new Linear(2 * 4 * 4, 5)), Shape.of(1, 4, 4)).build(device, 2, 6)) {
                float[] fcBefore = five.parameters().get(6).value().toFloatArray();
                LoadReport report = Checkpoint.loadMatching(file, five);
                assertEquals(List.of("fc.weight: file F32 [10, 32], model F32 [5, 32]", "fc.bias: file F32 [10], model F32 [5]"),
                        report.mismatched());
                assertEquals(List.of("other.0.weight", "other.0.bias"), report.missing());
                assertEquals(List.of("mid.0.bias", "mid.0.weight"), report.unexpected().stream().sorted().toList());
                assertTrue(report.loaded().contains("features.0.weight") && report.loaded().contains("features.1.num_batches_tracked"));
                assertFalse(report.complete());
                assertEquals(3L, ((Number) report.trainingState().get("epoch")).longValue());
                assertArrayEquals(ten.parameters().get(0).value().toFloatArray(), five.parameters().get(0).value().toFloatArray());
                assertArrayEquals(fcBefore, five.parameters().get(6).value().toFloatArray(), "a mismatched tensor is left alone");
                assertTrue(report.describeSkipped().contains("fc.weight: file F32 [10, 32]"), report.describeSkipped());
            }
        }
    }
}
