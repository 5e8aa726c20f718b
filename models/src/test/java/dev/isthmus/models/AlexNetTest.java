package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * alexnet (torchvision's) and alexnet-small against PyTorch without committed weights: the state_dict
 * is computed from make_fixtures_alexnet.py's integer formula, written as a safetensors file, loaded
 * strictly through the checkpoint loader, and the eval-mode logits compared with PyTorch's
 * (fixtures/alexnet_io.safetensors).
 */
class AlexNetTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int INPUT_TENSOR = 1000;
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

    /** make_fixtures_alexnet.py's formula: element i of tensor t, as float32 · float32(scale). */
    static void fill(MemorySegment target, long count, int t, double scale) {
        float factor = (float) scale;
        long offset = (t + 1L) * 1013904223L;
        for (long i = 0; i < count; i++) {
            long h = (i * 2654435761L + offset) & 0xFFFFFFFFL;
            h ^= h >>> 15;
            long v = h % 2001 - 1000;
            target.setAtIndex(F32, i, (float) v * factor);
        }
    }

    static double scaleFor(int[] shape) {
        if (shape.length >= 2) {
            long fanIn = 1;
            for (int d = 1; d < shape.length; d++) {
                fanIn *= shape[d];
            }
            return Math.sqrt(6.0 / fanIn) / 1000.0;
        }
        return 0.05 / 1000.0;
    }

    @SuppressWarnings("unchecked")
    private static List<List<Object>> referenceStateDict(String name) throws IOException {
        Path json = CheckpointInteropTest.fixture("state_dicts_alexnet.json");
        Map<String, Object> models = Json.parseObject(Files.readString(json));
        return (List<List<Object>>) ((Map<String, Object>) models.get(name)).get("state_dict");
    }

    private static long referenceParameters(String name) throws IOException {
        Path json = CheckpointInteropTest.fixture("state_dicts_alexnet.json");
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) Json.parseObject(Files.readString(json)).get(name);
        return ((Number) model.get("parameters")).longValue();
    }

    private static int[] dims(List<Object> entry) {
        return ((List<?>) entry.get(1)).stream().mapToInt(d -> ((Number) d).intValue()).toArray();
    }

    /** Writes the formula's state_dict, in PyTorch's order and with its names, as a safetensors file. */
    private Path formulaStateDict(String name, List<List<Object>> stateDict, Arena arena) throws IOException {
        List<SafeTensors.Item> items = new ArrayList<>();
        for (int t = 0; t < stateDict.size(); t++) {
            int[] shape = dims(stateDict.get(t));
            long count = Shape.of(shape).elementCount();
            MemorySegment data = arena.allocate(count * Float.BYTES, 4);
            fill(data, count, t, scaleFor(shape));
            items.add(new SafeTensors.Item((String) stateDict.get(t).get(0), "F32", shape, data));
        }
        Path file = folder.resolve(name + "_formula.safetensors");
        SafeTensors.write(file, items, Map.of("format", "pt"));
        return file;
    }

    @ParameterizedTest
    @ValueSource(strings = {"alexnet", "alexnet-small"})
    void pyTorchsStateDictLoadsAsItIsAndGivesPyTorchsLogits(String name) throws IOException {
        Zoo.Entry entry = Zoo.entry(name);
        List<List<Object>> stateDict = referenceStateDict(name);
        try (Model model = entry.create(3, entry.classes());
             SafeTensors io = SafeTensors.open(CheckpointInteropTest.fixture("alexnet_io.safetensors"))) {
            model.build(device, 2, 7);
            List<String> names = new ArrayList<>();
            for (Parameter parameter : model.parameters()) {
                names.add(parameter.name() + " " + parameter.value().shape());
            }
            List<String> expectedNames = new ArrayList<>();
            for (List<Object> item : stateDict) {
                expectedNames.add(item.get(0) + " " + Shape.of(dims(item)));
            }
            assertEquals(expectedNames, names, name + ": state_dict names, shapes and order");
            assertEquals(referenceParameters(name), model.parameterCount());
            try (Arena arena = Arena.ofConfined()) {
                Checkpoint.load(formulaStateDict(name, stateDict, arena), model, null); // strict
            }
            Shape inputShape = model.batchShape(2);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment input = arena.allocate(inputShape.elementCount() * Float.BYTES, 4);
                fill(input, inputShape.elementCount(), INPUT_TENSOR, 1.0 / 1000.0);
                float[] values = input.toArray(ValueLayout.JAVA_FLOAT);
                try (Tensor x = device.fromArray(inputShape, values)) {
                    float[] logits = model.forward(x, false).toFloatArray();
                    float[] expected = io.floats(name + "_logits");
                    assertEquals(expected.length, logits.length);
                    double largest = 0;
                    for (float e : expected) {
                        largest = Math.max(largest, Math.abs(e));
                    }
                    for (int i = 0; i < expected.length; i++) {
                        // 1e-4 relative to the logit, or to the largest one for logits near 0.
                        double tolerance = 1e-4 * Math.max(Math.abs(expected[i]), 0.1 * largest);
                        assertEquals(expected[i], logits[i], tolerance, name + " logit " + i);
                    }
                    if (name.equals("alexnet-small")) {
                        checkGradients(model, io);
                    }
                }
            }
        }
    }

    /**
     * The eval-mode backward of the formula's dL/dlogits (tensor 1001) through LRN, the overlapping
     * adaptive pool and the rest gives PyTorch's parameter gradients.
     */
    private static void checkGradients(Model model, SafeTensors io) {
        Shape logitsShape = Shape.of(2, 10);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dy = arena.allocate(logitsShape.elementCount() * Float.BYTES, 4);
            fill(dy, logitsShape.elementCount(), 1001, 1.0 / 1000.0);
            model.device().elementwise().fill(model.gradientBlock(), 0f);
            try (Tensor gradLogits = device.fromArray(logitsShape, dy.toArray(ValueLayout.JAVA_FLOAT))) {
                model.backward(gradLogits);
            }
        }
        int compared = 0;
        for (Parameter parameter : model.parameters()) {
            String key = "alexnet-small_grad:" + parameter.name();
            if (!io.entries().containsKey(key)) {
                continue;
            }
            float[] expected = io.floats(key);
            float[] actual = parameter.grad().toFloatArray();
            double largest = 0;
            for (float e : expected) {
                largest = Math.max(largest, Math.abs(e));
            }
            for (int i = 0; i < expected.length; i++) {
                double tolerance = 1e-4 * Math.max(Math.abs(expected[i]), 0.1 * largest);
                assertEquals(expected[i], actual[i], tolerance, parameter.name() + " gradient " + i);
            }
            compared++;
        }
        assertEquals(5, compared, "gradients compared");
    }

    @Test
    void theZooHasTorchvisionsAlexNetAndASmallOneForCifar() {
        Zoo.Entry alexnet = Zoo.entry("alexnet");
        assertEquals(List.of(3, 224, 224, 1000), List.of(alexnet.channels(), alexnet.height(), alexnet.width(), alexnet.classes()));
        Zoo.Entry small = Zoo.entry("alexnet-small");
        assertEquals(List.of(3, 32, 32, 10), List.of(small.channels(), small.height(), small.width(), small.classes()));
        try (Model model = small.create(3, 10)) {
            model.build(device, 4, 0);
            assertEquals(4_560_714L, model.parameterCount());
            assertTrue(model.root().outputShape().equals(Shape.of(4, 10)));
        }
    }
}
