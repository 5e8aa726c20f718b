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
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * torchvision 0.14's resnet18 state_dict (fixtures/make_fixtures_torchvision.py) loads as it is
 * into the zoo's resnet18 and gives torchvision's eval-mode logits.
 */
class TorchvisionResNet18Test {
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

    @Test
    void torchvisionsStateDictLoadsAsItIsAndGivesTorchvisionsLogits() throws IOException {
        Path stateDict = TorchvisionResNet18Fixture.widenedStateDict(folder);
        try (Model model = Zoo.entry("resnet18").create(3, 10);
             SafeTensors io = SafeTensors.open(TorchvisionResNet18Fixture.io())) {
            Shape shape = Shape.of(io.entry("input").shape());
            assertEquals(model.batchShape(2), shape);
            model.build(device, 2, 99);
            Checkpoint.load(stateDict, model, null); // strict: every key and shape of torchvision's, nothing else
            assertEquals(2L, model.counters().get("layer4.1.bn2.num_batches_tracked"));
            try (Tensor x = device.fromArray(shape, TorchvisionResNet18Fixture.input(io))) {
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
