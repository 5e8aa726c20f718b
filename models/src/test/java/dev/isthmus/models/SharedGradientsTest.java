package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model shares its input-gradient buffers between layers (two per shape, pinned in residual
 * blocks). The parameter gradients must be exactly those of the same network whose layers own one
 * buffer each — and the shared pool must be much smaller.
 */
class SharedGradientsTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg-small-bn", "lenet5", "mlp"})
    void sharingBuffersChangesNoGradient(String name) {
        try (CpuDevice device = new CpuDevice(2); CrossEntropyLoss loss = new CrossEntropyLoss();
             Model shared = Zoo.entry(name).create(); Layer own = Zoo.entry(name).create().root()) {
            int batch = 4;
            shared.build(device, batch, 7);
            Shape input = shared.batchShape(batch);
            own.setPropagateDown(false);
            own.setup(device, input);
            own.resetParameters(new SplittableRandom(7));
            try (Tensor x = device.allocateActivation(input).copyFrom(TestData.uniform((int) input.elementCount(), 1, 3));
                 Tensor labels = device.fromInts(Shape.of(batch), TestData.labels(batch, 10, 4))) {
                shared.backward(gradient(loss, shared.forward(x, true), labels));
                own.backward(gradient(loss, own.forward(x, true), labels));
            }
            List<Parameter> expected = own.parameters();
            List<Parameter> actual = shared.parameters();
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i).grad().toFloatArray(), actual.get(i).grad().toFloatArray(),
                        name + " " + expected.get(i).name());
            }
            long activations = 0;
            for (Layer leaf : shared.leaves().values()) {
                activations += leaf.inputShape().elementCount() * Float.BYTES;
            }
            assertTrue(shared.gradientBytes() < activations, name + ": shared " + shared.gradientBytes()
                    + " bytes, one per layer would be " + activations);
        }
    }

    private static Tensor gradient(CrossEntropyLoss loss, Tensor logits, Tensor labels) {
        loss.forward(logits, labels, true);
        return loss.backward();
    }
}
