package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The input-gradient buffers a model assigns at build: two per shape along a chain, and correct at the ends. */
class GradientPlanTest {
    @Test
    void aChainOfOneShapeTakesTwoBuffersInTurn() {
        try (Device device = new CpuDevice(1);
             Model model = new Model("chain", new Sequential(new Linear(8, 8), new ReLU(), new Linear(8, 8), new ReLU(),
                     new Linear(8, 8), new Tanh()), Shape.of(8)).build(device, 4, 0)) {
            assertEquals(2 * 4 * 8 * Float.BYTES, model.gradientBytes(), "two [4, 8] buffers for five layers' dL/dx");
        }
    }

    /** Layers that hand dy on (dropout with p = 0, a row-major flatten) at the end of a network read the loss's gradient. */
    @Test
    void aNetworkEndingInPassThroughLayersGetsEveryGradient() {
        assertModelMatchesStandalone(() -> new Sequential().add("conv", Conv2d.of(1, 2, 3).padding(1)).add(new ReLU())
                .add(new Flatten()).add("fc", new Linear(2 * 3 * 3, 6)).add(new Dropout(0f)), Shape.of(1, 3, 3));
        assertModelMatchesStandalone(() -> new Sequential().add("fc", new Linear(4, 6)).add(new Dropout(0f))
                .add(new Flatten()), Shape.of(4));
    }

    private static void assertModelMatchesStandalone(Supplier<Layer> network, Shape sample) {
        try (Device device = new CpuDevice(1); CrossEntropyLoss loss = new CrossEntropyLoss();
             Model model = new Model("model", network.get(), sample).build(device, 2, 3); Layer own = network.get()) {
            Shape input = model.batchShape(2);
            own.setPropagateDown(false);
            own.setup(device, input);
            own.resetParameters(new SplittableRandom(3));
            try (Tensor x = device.allocateActivation(input).copyFrom(TestData.uniform((int) input.elementCount(), 1, 4));
                 Tensor labels = device.fromInts(Shape.of(2), 1, 5)) {
                loss.forward(model.forward(x, true), labels, true);
                model.backward(loss.backward());
                loss.forward(own.forward(x, true), labels, true);
                own.backward(loss.backward());
            }
            List<Parameter> expected = own.parameters();
            List<Parameter> actual = model.parameters();
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i).grad().toFloatArray(), actual.get(i).grad().toFloatArray(),
                        expected.get(i).name());
            }
        }
    }

    @Test
    void planningNeedsTheGradientBackwardWillRead() {
        try (Device device = new CpuDevice(1); Linear linear = new Linear(2, 2); GradientPlan plan = new GradientPlan(device)) {
            assertThrows(IllegalStateException.class, () -> linear.planBackward(plan, null));
            linear.setup(device, Shape.of(1, 2));
            assertThrows(IllegalArgumentException.class, () -> linear.planBackward(plan, null));
        }
    }
}
