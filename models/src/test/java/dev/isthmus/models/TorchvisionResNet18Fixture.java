package dev.isthmus.models;

import dev.isthmus.io.SafeTensors;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The files of fixtures/make_fixtures_torchvision.py: torchvision's resnet18 state_dict, an input and its logits. */
public final class TorchvisionResNet18Fixture {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TorchvisionResNet18Fixture() {
    }

    /** The input [2, 3, 224, 224] (float16) and torchvision's logits [2, 10]. */
    public static Path io() {
        return CheckpointInteropTest.fixture("resnet18_torchvision_io.safetensors");
    }

    /**
     * The fixture's state_dict as PyTorch saves one: its int8 weights widened to q · scale in
     * float32 (what the script loaded into torchvision), everything else copied as it is.
     */
    public static Path widenedStateDict(Path folder) throws IOException {
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
    public static float[] input(SafeTensors io) {
        MemorySegment half = io.bytes("input");
        float[] values = new float[(int) (half.byteSize() / 2)];
        for (int i = 0; i < values.length; i++) {
            values[i] = Float.float16ToFloat(half.getAtIndex(F16, i));
        }
        return values;
    }
}
