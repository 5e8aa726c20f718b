package dev.isthmus.models;

import dev.isthmus.cli.bench.StepBenchmark;
import dev.isthmus.data.MovingShapes;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Adam;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.train.EpochResult;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** C3D's shapes, and C3D-small learning the direction of motion of the moving-shapes clips. */
class C3dTest {
    private static CpuDevice device;

    @BeforeAll
    static void open() {
        device = new CpuDevice(2);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /** The zoo's c3d and c3d-small against make_model_fixtures_3d.py's PyTorch definitions. */
    @ParameterizedTest
    @ValueSource(strings = {"c3d", "c3d-small"})
    void namesShapesAndCountsMatchPyTorch(String name) throws IOException {
        Map<String, Object> catalogue = Json.parseObject(Files.readString(CheckpointInteropTest.fixture("state_dicts_3d.json")));
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = (Map<String, Object>) catalogue.get(name);
        Zoo.Entry entry = Zoo.entry(name);
        assertTrue(entry.isClip(), name + " takes clips");
        List<Integer> input = ((List<?>) expected.get("input")).stream().map(d -> ((Number) d).intValue()).toList();
        assertEquals(Shape.of(input.stream().mapToInt(Integer::intValue).toArray()), entry.sampleShape(entry.channels()));
        try (Model model = entry.create()) {
            model.build(device, 1, 0);
            List<String> actual = new ArrayList<>();
            for (Parameter parameter : model.parameters()) {
                actual.add(parameter.name() + " " + parameter.value().shape());
            }
            List<String> reference = new ArrayList<>();
            for (Object item : (List<?>) expected.get("state_dict")) {
                List<?> pair = (List<?>) item;
                int[] dims = ((List<?>) pair.get(1)).stream().mapToInt(d -> ((Number) d).intValue()).toArray();
                reference.add(pair.get(0) + " " + Shape.of(dims));
            }
            assertEquals(reference, actual);
            assertEquals(((Number) expected.get("parameters")).longValue(), model.parameterCount());
            assertEquals(Shape.of(1, 10), model.root().outputShape());
        }
    }

    @Test
    void smallGivesPyTorchsLogitsFromItsStateDict() throws IOException {
        try (Model model = Zoo.entry("c3d-small").create();
             SafeTensors io = SafeTensors.open(CheckpointInteropTest.fixture("c3d-small_io.safetensors"))) {
            Shape input = Shape.of(io.entry("input").shape());
            model.build(device, input.dim(0), 5);
            Checkpoint.load(CheckpointInteropTest.fixture("c3d-small_trained.safetensors"), model, null);
            try (Tensor x = device.fromArray(input, io.floats("input"))) {
                float[] logits = model.forward(x, false).toFloatArray();
                float[] expected = io.floats("logits");
                assertEquals(expected.length, logits.length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], 1e-4 * (1 + Math.abs(expected[i])), "logit " + i);
                }
            }
        }
    }

    /** As SteadyStateStepTest for the image models: the figures `isthmus bench c3d-small` reports. */
    @ParameterizedTest
    @ValueSource(strings = {"TRAIN", "INFER"})
    void aWarmStepOfSmallAllocatesNoNativeMemoryAndUnderOneKibOfHeap(String mode) {
        try (Model model = Zoo.entry("c3d-small").create()) {
            model.build(device, 8, 0);
            StepBenchmark.Result result = StepBenchmark.measure(model, StepBenchmark.Mode.valueOf(mode), 8, 0.2, 3, 0);
            assertEquals(0, result.deviceAllocationsPerRun(), mode + ": native allocations in warm steps");
            assertTrue(result.heapBytesPerStep() < 1024, mode + ": " + result.heapBytesPerStep() + " heap bytes per warm step");
        }
    }

    @Test
    void clipsTooSmallForThePoolsAreRefusedNamingThePool() {
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> C3d.small(3, 4, 2, 16));
        assertTrue(small.getMessage().contains("pool3"), small.getMessage());
        assertThrows(IllegalArgumentException.class, () -> C3d.paper(3, 4, 8, 112));
    }

    /** Training and held-out clips are disjoint index ranges of one generator; chance is 25%. */
    @Test
    void smallLearnsTheDirectionOfMotionOnHeldOutClips() {
        int frames = 8;
        int side = 16;
        MovingShapes train = new MovingShapes(3, frames, side, 1024, 7, 0);
        MovingShapes test = new MovingShapes(3, frames, side, 256, 7, 1_000_000);
        try (Model model = new Model("c3d-small", C3d.small(3, MovingShapes.DIRECTIONS, frames, side),
                Shape.of(3, frames, side, side)); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, 32, 0);
            try (Adam adam = new Adam(model.parameters(), 2e-3, 0.9, 0.999, 1e-8, 0, false);
                 Trainer trainer = new Trainer(model, loss, adam, TrainingConfig.of(2, 32, 0))) {
                List<EpochResult> results = trainer.fit(train, test);
                double accuracy = results.getLast().validation().accuracy();
                assertTrue(accuracy >= 0.90, "held-out accuracy " + accuracy + " (chance is 25%)");
            }
        }
    }
}
