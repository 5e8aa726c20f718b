package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * torchvision 0.14's resnet18 state_dict (fixtures/make_fixtures_torchvision.py) loads as it is
 * into the zoo's resnet18 and gives torchvision's eval-mode logits.
 */
class TorchvisionResNet18Test {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
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

    /**
     * The fixture's state_dict as PyTorch saves one: its int8 weights widened to q · scale in
     * float32 (what the script loaded into torchvision), everything else copied as it is.
     */
    static Path widenedStateDict(Path folder) throws IOException {
        Path file = folder.resolve("resnet18_torchvision_f32.safetensors");
        try (SafeTensors stored = SafeTensors.open(CheckpointInteropTest.fixture("resnet18_torchvision.safetensors"))) {
            List<SafeTensors.Item> items = new ArrayList<>();
            for (SafeTensors.Entry entry : stored.entries().values()) {
                if (entry.dtype().equals("I8")) {
                    float scale = Float.parseFloat(stored.metadata().get("scale:" + entry.name()));
                    byte[] q = stored.bytes(entry.name()).toArray(ValueLayout.JAVA_BYTE);
                    MemorySegment widened = MemorySegment.ofArray(new float[q.length]);
                    for (int i = 0; i < q.length; i++) {
                        widened.setAtIndex(F32, i, q[i] * scale);
                    }
                    items.add(new SafeTensors.Item(entry.name(), "F32", entry.shape(), widened));
                } else {
                    items.add(new SafeTensors.Item(entry.name(), entry.dtype(), entry.shape(), stored.bytes(entry.name())));
                }
            }
            SafeTensors.write(file, items, Map.of("format", "pt"));
        }
        return file;
    }

    /** The fixture's float16 input, widened. */
    static float[] input(SafeTensors io) {
        MemorySegment half = io.bytes("input");
        float[] values = new float[(int) (half.byteSize() / 2)];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.float16ToFloat(half.getAtIndex(F16, i));
        }
        return values;
    }

    @Test
    void torchvisionsStateDictLoadsAsItIsAndGivesTorchvisionsLogits() throws IOException {
        Path stateDict = widenedStateDict(folder);
        try (Model model = Zoo.entry("resnet18").create(3, 10);
             SafeTensors io = SafeTensors.open(CheckpointInteropTest.fixture("resnet18_torchvision_io.safetensors"))) {
            Shape shape = Shape.of(io.entry("input").shape());
            assertEquals(model.batchShape(2), shape);
            model.build(device, 2, 99);
            Checkpoint.load(stateDict, model, null); // strict: every key and shape of torchvision's, nothing else
            assertEquals(2L, model.counters().get("layer4.1.bn2.num_batches_tracked"));
            try (Tensor x = device.fromArray(shape, input(io))) {
                float[] logits = model.forward(x, false).toFloatArray();
                float[] expected = io.floats("logits");
                assertEquals(expected.length, logits.length);
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], logits[i], 1e-4 * (1 + Math.abs(expected[i])), "logit " + i);
                }
            }
        }
    }

    @Test
    void theZoosResNet18HasTorchvisionsDefaultInputAndClasses() {
        Zoo.Entry entry = Zoo.entry("resnet18");
        assertEquals(List.of(3, 224, 224, 1000), List.of(entry.channels(), entry.height(), entry.width(), entry.classes()));
    }
}
