package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
 * torchvision's googlenet (no auxiliary heads): a state_dict with torchvision's names, shapes and
 * order, filled by make_fixtures_googlenet.py's formula (no weights committed), loads strictly and
 * gives PyTorch's eval-mode logits within 1e-4; googlenet-small keeps the blocks at 32×32.
 */
class GoogLeNetTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path folder;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> reference() throws IOException {
        Path json = CheckpointInteropTest.fixture("state_dicts_googlenet.json");
        return (Map<String, Object>) Json.parseObject(Files.readString(json)).get("googlenet");
    }

    private static int[] dims(List<?> entry) {
        return ((List<?>) entry.get(1)).stream().mapToInt(d -> ((Number) d).intValue()).toArray();
    }

    /** The formula's state_dict (make_fixtures_googlenet.py), in PyTorch's order and with its names. */
    private Path formulaStateDict(List<List<Object>> stateDict, Arena arena) throws IOException {
        List<SafeTensors.Item> items = new ArrayList<>();
        for (int t = 0; t < stateDict.size(); t++) {
            String name = (String) stateDict.get(t).get(0);
            int[] shape = dims(stateDict.get(t));
            long count = Shape.of(shape).elementCount();
            if (stateDict.get(t).get(2).equals("I64")) {
                items.add(new SafeTensors.Item(name, "I64", shape, arena.allocate(Math.max(1, count) * Long.BYTES, 8)));
                continue;
            }
            MemorySegment data = arena.allocate(count * Float.BYTES, 4);
            boolean variance = name.endsWith("running_var");
            boolean gamma = name.endsWith("bn.weight");
            AlexNetTest.fill(data, count, t, variance || gamma ? 0.5 / 1000.0 : AlexNetTest.scaleFor(shape));
            if (variance || gamma) {
                for (long i = 0; i < count; i++) {
                    float v = data.getAtIndex(F32, i);
                    data.setAtIndex(F32, i, 1f + (variance ? Math.abs(v) : v));
                }
            }
            items.add(new SafeTensors.Item(name, "F32", shape, data));
        }
        Path file = folder.resolve("googlenet_formula.safetensors");
        SafeTensors.write(file, items, Map.of("format", "pt"));
        return file;
    }

    @Test
    @SuppressWarnings("unchecked")
    void pyTorchsStateDictLoadsAsItIsAndGivesPyTorchsLogits() throws IOException {
        Map<String, Object> reference = reference();
        List<List<Object>> stateDict = (List<List<Object>>) reference.get("state_dict");
        Zoo.Entry entry = Zoo.entry("googlenet");
        try (CpuDevice device = new CpuDevice();
             Model model = entry.create(3, entry.classes());
             SafeTensors io = SafeTensors.open(CheckpointInteropTest.fixture("googlenet_io.safetensors"))) {
            model.build(device, 2, 7);
            List<String> names = new ArrayList<>();
            for (Parameter parameter : model.parameters()) {
                names.add(parameter.name() + " " + parameter.value().shape());
            }
            for (NamedTensor buffer : model.buffers()) {
                names.add(buffer.name() + " " + buffer.tensor().shape());
            }
            List<String> expected = new ArrayList<>();
            for (List<Object> item : stateDict) {
                if (!item.get(2).equals("I64")) {
                    expected.add(item.get(0) + " " + Shape.of(dims(item)));
                }
            }
            assertEquals(expected.stream().sorted().toList(), names.stream().sorted().toList(),
                    "torchvision's state_dict names and shapes");
            assertEquals(((Number) reference.get("parameters")).longValue(), model.parameterCount());
            try (Arena arena = Arena.ofConfined()) {
                Checkpoint.load(formulaStateDict(stateDict, arena), model, null); // strict
            }
            Shape inputShape = model.batchShape(2);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment input = arena.allocate(inputShape.elementCount() * Float.BYTES, 4);
                AlexNetTest.fill(input, inputShape.elementCount(), 1000, 1.0 / 1000.0);
                try (Tensor x = device.fromArray(inputShape, input.toArray(ValueLayout.JAVA_FLOAT))) {
                    float[] logits = model.forward(x, false).toFloatArray();
                    float[] reference1 = io.floats("googlenet_logits");
                    assertEquals(reference1.length, logits.length);
                    double largest = 0;
                    for (float e : reference1) {
                        largest = Math.max(largest, Math.abs(e));
                    }
                    for (int i = 0; i < reference1.length; i++) {
                        double tolerance = 1e-4 * Math.max(Math.abs(reference1[i]), 0.1 * largest);
                        assertEquals(reference1[i], logits[i], tolerance, "googlenet logit " + i);
                    }
                }
            }
        }
    }

    @Test
    void googlenetSmallIsCifarSizedWithTheSameBlocks() {
        Zoo.Entry small = Zoo.entry("googlenet-small");
        assertEquals(List.of(3, 32, 32, 10), List.of(small.channels(), small.height(), small.width(), small.classes()));
        try (CpuDevice device = new CpuDevice(); Model model = small.create(3, 10)) {
            model.build(device, 8, 3);
            assertEquals(355_138, model.parameterCount());
            assertEquals(Shape.of(8, 10), model.root().outputShape());
            assertTrue(model.root().describe() != null);
        }
    }
}
