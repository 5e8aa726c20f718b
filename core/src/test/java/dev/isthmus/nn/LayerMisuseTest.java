package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gives an exception naming the layer and the shapes: never a crash or a silent wrong result. */
class LayerMisuseTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice(1);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    private static void assertMessage(Class<? extends Throwable> type, Executable action, String... fragments) {
        Throwable failure = assertThrows(type, action);
        for (String fragment : fragments) {
            assertTrue(failure.getMessage().contains(fragment), "'" + failure.getMessage() + "' lacks '" + fragment + "'");
        }
    }

    @Test
    void wrongRankOrChannelsNamesTheLayerAndBothShapes() {
        try (Conv2d conv = new Conv2d(3, 8, 3, 1, 1, true); Linear linear = new Linear(10, 2);
             BatchNorm2d bn = new BatchNorm2d(4); MaxPool2d pool = new MaxPool2d(2)) {
            assertMessage(IllegalArgumentException.class, () -> conv.setup(device, Shape.of(2, 4, 8, 8)),
                    "Conv2d(3, 8, kernel=3x3, padding=1x1)", "[N, 3, H, W]", "[2, 4, 8, 8]");
            assertMessage(IllegalArgumentException.class, () -> conv.setup(device, Shape.of(2, 3, 8)), "[2, 3, 8]");
            assertMessage(IllegalArgumentException.class, () -> linear.setup(device, Shape.of(2, 11)),
                    "Linear(10, 2)", "[N, 10]", "[2, 11]");
            assertMessage(IllegalArgumentException.class, () -> bn.setup(device, Shape.of(2, 3, 4, 4)),
                    "BatchNorm2d(4)", "[N, 4, H, W]", "[2, 3, 4, 4]");
            assertMessage(IllegalArgumentException.class, () -> pool.setup(device, Shape.of(2, 3)), "MaxPool2d", "[2, 3]");
            assertMessage(IllegalArgumentException.class, () -> pool.setup(device, Shape.of(1, 1, 1, 1)), "smaller than the kernel");
        }
    }

    @Test
    void impossibleHyperparametersAreRefusedAtConstruction() {
        assertMessage(IllegalArgumentException.class, () -> new Conv2d(3, 8, 0, 1, 0, true), "kernel size must be > 0");
        assertMessage(IllegalArgumentException.class, () -> new Conv2d(3, 8, 3, 0, 0, true), "stride must be > 0");
        assertMessage(IllegalArgumentException.class, () -> new Conv2d(3, 8, 3, 1, -1, true), "padding must be >= 0");
        assertMessage(IllegalArgumentException.class, () -> Conv2d.of(3, 8, 3).padding(1).groups(2),
                "groups must divide");
        assertMessage(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2), "padding must be between 0 and half the kernel");
        assertMessage(IllegalArgumentException.class, () -> new MaxPool2d(0), "kernel and stride must be > 0");
        assertMessage(IllegalArgumentException.class, () -> new AvgPool2d(3, -1, 0, true), "kernel and stride must be > 0");
        assertMessage(IllegalArgumentException.class, () -> new Linear(0, 3), "sizes must be > 0");
        assertMessage(IllegalArgumentException.class, () -> new Dropout(1f), "p must be in [0, 1)");
        assertMessage(IllegalArgumentException.class, () -> new BatchNorm1d(4, 0f, 0.1f, true), "eps must be > 0");
        assertMessage(IllegalArgumentException.class, () -> new LeakyReLU(Float.NaN), "must be finite");
    }

    @Test
    void aKernelLargerThanThePaddedInputIsRefused() {
        try (Conv2d conv = new Conv2d(1, 1, 5, 1, 0, false)) {
            assertMessage(IllegalArgumentException.class, () -> conv.setup(device, Shape.of(1, 1, 4, 4)),
                    "smaller than the dilated kernel 5x5");
        }
    }

    @Test
    void backwardBeforeForwardAndForwardBeforeSetup() {
        try (Linear linear = new Linear(3, 2); Tensor x = device.allocate(Shape.of(4, 3)); Tensor dy = device.allocate(Shape.of(4, 2))) {
            assertMessage(IllegalStateException.class, () -> linear.forward(x, true), "forward before setup");
            linear.setup(device, Shape.of(4, 3));
            linear.resetParameters(new SplittableRandom(1));
            assertMessage(IllegalStateException.class, () -> linear.backward(dy), "Linear(3, 2)", "backward needs a forward");
            linear.forward(x, true);
            try (Tensor wrong = device.allocate(Shape.of(4, 3))) {
                assertMessage(IllegalArgumentException.class, () -> linear.backward(wrong), "[4, 3]", "[4, 2]");
            }
        }
    }

    @Test
    void inputsMustMatchTheSetUpShapeAndDevice() {
        try (Device other = new CpuDevice(1); ReLU relu = new ReLU(); Tensor x = device.allocate(Shape.of(2, 3));
             Tensor wrongShape = device.allocate(Shape.of(3, 3)); Tensor elsewhere = other.allocate(Shape.of(2, 3))) {
            relu.setup(device, Shape.of(2, 3));
            assertMessage(IllegalArgumentException.class, () -> relu.forward(wrongShape, true), "ReLU()", "[3, 3]", "[2, 3]");
            assertMessage(IllegalArgumentException.class, () -> relu.forward(elsewhere, true), "lives on");
            assertMessage(IllegalStateException.class, () -> relu.setup(other, Shape.of(2, 3)), "lives on cpu");
            x.close();
            assertThrows(IllegalStateException.class, () -> relu.forward(x, true));
        }
    }

    @Test
    void sequentialNamesTheFailingChild() {
        try (Sequential model = new Sequential().add("conv1", new Conv2d(1, 4, 3, 1, 0, true)).add(new Flatten())
                .add("fc", new Linear(100, 10))) {
            assertMessage(IllegalArgumentException.class, () -> model.setup(device, Shape.of(2, 1, 8, 8)),
                    "layer fc", "Linear(100, 10)", "[2, 144]");
            assertThrows(IllegalArgumentException.class, () -> new Sequential().add("a.b", new ReLU()));
            assertThrows(IllegalArgumentException.class, () -> new Sequential().add("x", new ReLU()).add("x", new ReLU()));
        }
    }

    @Test
    void reSetupForANewBatchKeepsParameters() {
        try (Linear linear = new Linear(3, 2)) {
            linear.setup(device, Shape.of(4, 3));
            linear.resetParameters(new SplittableRandom(1));
            float[] before = linear.parameters().get(0).value().toFloatArray();
            Tensor weight = linear.parameters().get(0).value();
            assertEquals(Shape.of(7, 2), linear.setup(device, Shape.of(7, 3)));
            assertSame(weight, linear.parameters().get(0).value());
            org.junit.jupiter.api.Assertions.assertArrayEquals(before, linear.parameters().get(0).value().toFloatArray());
        }
    }

    @Test
    void closingALayerFreesEverything() {
        try (Device fresh = new CpuDevice(1)) {
            Sequential model = new Sequential(new Conv2d(2, 3, 3, 1, 1, true), new BatchNorm2d(3), new ReLU(),
                    new MaxPool2d(2), new Flatten(), new Dropout(0.5f), new Linear(12, 4));
            model.setup(fresh, Shape.of(2, 2, 4, 4));
            model.resetParameters(new SplittableRandom(1));
            assertTrue(fresh.liveBytes() > 0);
            model.setup(fresh, Shape.of(5, 2, 4, 4));
            model.close();
            assertEquals(0, fresh.liveBytes(), "native bytes left after closing the model");
        }
    }
}
