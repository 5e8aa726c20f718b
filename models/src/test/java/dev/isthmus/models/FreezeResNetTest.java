package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.LayerHook;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Freezing the stem and first stage of ResNet-20 (residual blocks inside): untouched, unvisited by backward. */
class FreezeResNetTest {
    @Test
    void theFrozenStemAndStageStayPutAndBackwardStopsAboveThem() {
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry("resnet20").create();
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            List<String> frozen = model.freeze(List.of("conv1", "bn1", "layer1"));
            assertTrue(frozen.contains("layer1.2.bn2.bias") && frozen.contains("conv1.weight"), frozen.toString());
            assertFalse(frozen.stream().anyMatch(name -> name.startsWith("layer2")));
            model.build(device, 4, 1);
            Map<Layer, String> names = new IdentityHashMap<>();
            model.leaves().forEach((name, layer) -> names.put(layer, name));
            List<String> visited = new ArrayList<>();
            model.addHook(new LayerHook() {
                @Override
                public void beforeBackward(Layer layer) {
                    if (names.containsKey(layer)) {
                        visited.add(names.get(layer));
                    }
                }
            });
            List<float[]> before = new ArrayList<>();
            for (Parameter parameter : model.parameters()) {
                before.add(parameter.value().toFloatArray());
            }
            try (Sgd sgd = new Sgd(model.trainableParameters(), 0.1, 0.9, 0, 5e-4, false);
                 Tensor x = device.fromArray(model.batchShape(4), TestData.uniform(4 * 3 * 32 * 32, 1.0, 2));
                 Tensor labels = device.fromInts(Shape.of(4), TestData.labels(4, 10, 3))) {
                assertTrue(sgd.isFused());
                for (int step = 0; step < 2; step++) {
                    sgd.zeroGrad();
                    loss.forward(model.forward(x, true), labels, true);
                    model.backward(loss.backward());
                    sgd.step();
                }
            }
            for (int i = 0; i < model.parameters().size(); i++) {
                Parameter parameter = model.parameters().get(i);
                boolean moved = !java.util.Arrays.equals(before.get(i), parameter.value().toFloatArray());
                assertEquals(!frozen.contains(parameter.name()), moved, parameter.name());
                if (frozen.contains(parameter.name())) {
                    assertArrayEquals(before.get(i), parameter.value().toFloatArray(), parameter.name());
                }
            }
            assertTrue(visited.contains("layer2.0.conv1"), visited.toString());
            assertFalse(visited.stream().anyMatch(name -> name.startsWith("layer1") || name.equals("conv1") || name.equals("bn1")),
                    "backward visited frozen layers below the lowest trainable one: " + visited);
        }
    }
}
