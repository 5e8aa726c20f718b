package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** Every layer's analytic gradients against finite differences, on several odd shapes each. */
class GradientCheckTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /** Smooth inputs suit smooth layers; kinked layers (ReLU, max pooling) get well-spaced values. */
    enum Inputs { UNIFORM, SPACED }

    static Stream<Arguments> layers() {
        return Stream.of(
            arguments("Linear 7->5", (Supplier<Layer>) () -> new Linear(7, 5), Shape.of(3, 7), Inputs.UNIFORM),
            arguments("Linear 1->3 no bias", (Supplier<Layer>) () -> new Linear(1, 3, false), Shape.of(5, 1), Inputs.UNIFORM),
            arguments("Linear 13->2", (Supplier<Layer>) () -> new Linear(13, 2), Shape.of(1, 13), Inputs.UNIFORM),
            arguments("Conv2d 3x3 pad 1", (Supplier<Layer>) () -> new Conv2d(3, 4, 3, 1, 1, true), Shape.of(2, 3, 7, 6), Inputs.UNIFORM),
            arguments("Conv2d 3x5 stride 2 pad 2", (Supplier<Layer>) () -> Conv2d.of(2, 3, 3, 5).stride(2).padding(2),
                    Shape.of(2, 2, 9, 8), Inputs.UNIFORM),
            arguments("Conv2d dilation 2", (Supplier<Layer>) () -> Conv2d.of(2, 2, 3).padding(2).dilation(2).bias(false),
                    Shape.of(1, 2, 7, 7), Inputs.UNIFORM),
            arguments("Conv2d groups 2", (Supplier<Layer>) () -> Conv2d.of(4, 6, 3).padding(1).groups(2),
                    Shape.of(2, 4, 5, 5), Inputs.UNIFORM),
            arguments("Conv2d 1x1 stride 2", (Supplier<Layer>) () -> new Conv2d(3, 5, 1, 2, 0, false), Shape.of(2, 3, 7, 7), Inputs.UNIFORM),
            arguments("Conv2d 1x1 pointwise", (Supplier<Layer>) () -> new Conv2d(3, 2, 1, 1, 0, true), Shape.of(2, 3, 4, 5), Inputs.UNIFORM),
            arguments("Conv2d stride (2,1) pad (1,0)", (Supplier<Layer>) () -> Conv2d.of(3, 2, 3).stride(2, 1).padding(1, 0),
                    Shape.of(1, 3, 7, 6), Inputs.UNIFORM),
            arguments("MaxPool2d 2", (Supplier<Layer>) () -> new MaxPool2d(2), Shape.of(2, 3, 6, 6), Inputs.SPACED),
            arguments("MaxPool2d 3 s2 p1", (Supplier<Layer>) () -> new MaxPool2d(3, 2, 1), Shape.of(2, 2, 7, 7), Inputs.SPACED),
            arguments("MaxPool2d 3 s1", (Supplier<Layer>) () -> new MaxPool2d(3, 1, 0), Shape.of(1, 2, 5, 6), Inputs.SPACED),
            arguments("AvgPool2d 2", (Supplier<Layer>) () -> new AvgPool2d(2), Shape.of(2, 3, 6, 5), Inputs.UNIFORM),
            arguments("AvgPool2d 3 s2 p1", (Supplier<Layer>) () -> new AvgPool2d(3, 2, 1, true), Shape.of(2, 2, 7, 7), Inputs.UNIFORM),
            arguments("AvgPool2d 3 s2 p1 exclude", (Supplier<Layer>) () -> new AvgPool2d(3, 2, 1, false), Shape.of(1, 2, 7, 6), Inputs.UNIFORM),
            arguments("GlobalAvgPool2d", (Supplier<Layer>) GlobalAvgPool2d::new, Shape.of(2, 3, 5, 4), Inputs.UNIFORM),
            arguments("Flatten", (Supplier<Layer>) Flatten::new, Shape.of(2, 3, 2, 2), Inputs.UNIFORM),
            arguments("ReLU", (Supplier<Layer>) ReLU::new, Shape.of(3, 11), Inputs.SPACED),
            arguments("LeakyReLU 0.2", (Supplier<Layer>) () -> new LeakyReLU(0.2f), Shape.of(3, 11), Inputs.SPACED),
            arguments("ELU 0.7", (Supplier<Layer>) () -> new ELU(0.7f), Shape.of(3, 11), Inputs.SPACED),
            arguments("Sigmoid", (Supplier<Layer>) Sigmoid::new, Shape.of(4, 5), Inputs.UNIFORM),
            arguments("Tanh", (Supplier<Layer>) Tanh::new, Shape.of(4, 5), Inputs.UNIFORM),
            arguments("GELU", (Supplier<Layer>) GELU::new, Shape.of(4, 5), Inputs.UNIFORM),
            arguments("Softmax [N,C]", (Supplier<Layer>) Softmax::new, Shape.of(3, 7), Inputs.UNIFORM),
            arguments("Softmax [N,C,H,W]", (Supplier<Layer>) Softmax::new, Shape.of(2, 3, 2, 3), Inputs.UNIFORM),
            arguments("LogSoftmax [N,C]", (Supplier<Layer>) LogSoftmax::new, Shape.of(3, 7), Inputs.UNIFORM),
            arguments("LogSoftmax [N,C,L]", (Supplier<Layer>) LogSoftmax::new, Shape.of(2, 4, 3), Inputs.UNIFORM),
            arguments("BatchNorm2d", (Supplier<Layer>) () -> new BatchNorm2d(3), Shape.of(4, 3, 3, 3), Inputs.UNIFORM),
            arguments("BatchNorm2d no affine", (Supplier<Layer>) () -> new BatchNorm2d(2, 1e-3f, 0.2f, false),
                    Shape.of(3, 2, 2, 3), Inputs.UNIFORM),
            arguments("BatchNorm1d [N,C]", (Supplier<Layer>) () -> new BatchNorm1d(4), Shape.of(6, 4), Inputs.UNIFORM),
            arguments("BatchNorm1d [N,C,L]", (Supplier<Layer>) () -> new BatchNorm1d(3), Shape.of(3, 3, 5), Inputs.UNIFORM),
            arguments("Sequential conv-elu-pool-flatten-linear", (Supplier<Layer>) () -> new Sequential(
                    new Conv2d(2, 3, 3, 1, 1, true), new ELU(1f), new AvgPool2d(2), new Flatten(), new Linear(12, 3)),
                    Shape.of(2, 2, 4, 4), Inputs.UNIFORM),
            arguments("Residual identity", (Supplier<Layer>) () -> new Residual(new Sequential()
                    .add("conv1", new Conv2d(3, 3, 3, 1, 1, false)).add("bn1", new BatchNorm2d(3)).add(new Tanh())
                    .add("conv2", new Conv2d(3, 3, 3, 1, 1, false)), null, false), Shape.of(2, 3, 4, 4), Inputs.UNIFORM),
            arguments("Residual projection", (Supplier<Layer>) () -> new Residual(new Sequential()
                    .add("conv1", new Conv2d(2, 4, 3, 2, 1, false)).add(new Tanh()).add("conv2", new Conv2d(4, 4, 3, 1, 1, false)),
                    new Sequential(new Conv2d(2, 4, 1, 2, 0, false), new BatchNorm2d(4)), false), Shape.of(2, 2, 5, 5), Inputs.UNIFORM));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void analyticGradientsMatchFiniteDifferences(String name, Supplier<Layer> factory, Shape inputShape, Inputs inputs) {
        for (long seed = 1; seed <= 2; seed++) {
            try (Layer layer = factory.get()) {
                layer.setup(device, inputShape);
                layer.resetParameters(new SplittableRandom(seed));
                float[] values = inputs == Inputs.SPACED
                        ? TestData.spaced((int) inputShape.elementCount(), 0.05, seed)
                        : TestData.uniform((int) inputShape.elementCount(), 1.0, seed);
                try (Tensor input = device.fromArray(inputShape, values)) {
                    GradientChecker.Report report = new GradientChecker().check(layer, input, seed * 31);
                    assertTrue(report.passed(), name + " seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, name + ": nothing was probed");
                }
            }
        }
    }

    @Test
    void dropoutGradientsMatchWhenTheMaskIsReplayed() {
        try (Dropout dropout = new Dropout(0.3f)) {
            Shape shape = Shape.of(4, 9);
            dropout.setup(device, shape);
            dropout.resetParameters(new SplittableRandom(7));
            long seed = dropout.seed();
            try (Tensor input = device.fromArray(shape, TestData.uniform(36, 1.0, 3))) {
                GradientChecker checker = new GradientChecker().beforeEachForward(() -> dropout.restoreGenerator(seed, 5));
                GradientChecker.Report report = checker.check(dropout, input, 11);
                assertTrue(report.passed(), report.toString());
                assertEquals(36, report.probes());
            }
        }
    }
}
