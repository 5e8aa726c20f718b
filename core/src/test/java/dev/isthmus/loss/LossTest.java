package dev.isthmus.loss;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LossTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<String> cases() {
        return Fixtures.cases("losses");
    }

    static Loss build(Map<String, Object> config) {
        return switch ((String) config.get("loss")) {
            case "CrossEntropyLoss" -> new CrossEntropyLoss(Fixtures.decimal(config, "label_smoothing"));
            case "MSELoss" -> ElementwiseLoss.mse();
            case "L1Loss" -> ElementwiseLoss.l1();
            case "SmoothL1Loss" -> ElementwiseLoss.smoothL1(Fixtures.decimal(config, "beta"));
            case "BCEWithLogitsLoss" -> ElementwiseLoss.bceWithLogits();
            default -> throw new AssertionError("unknown loss " + config.get("loss"));
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(String name) {
        try (SafeTensors fixture = Fixtures.open("losses", name); Loss loss = build(Fixtures.config(fixture))) {
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            boolean labels = fixture.entry("target").dtype().equals("I32");
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"));
                 Tensor target = labels ? device.fromInts(Shape.of(fixture.entry("target").shape()), fixture.ints("target"))
                         : device.fromArray(Shape.of(fixture.entry("target").shape()), fixture.floats("target"))) {
                float value = loss.forward(input, target, true).item();
                assertClose(name + " loss", fixture.floats("loss"), new float[] {value}, 1e-5, 1e-6);
                assertClose(name + " gradient", fixture.floats("grad_input"), loss.backward().toFloatArray(), 1e-4, 1e-6);
            }
        }
    }

    static List<Object[]> gradientCases() {
        return List.of(
            new Object[] {"cross entropy", (Supplier<Loss>) CrossEntropyLoss::new},
            new Object[] {"cross entropy smoothing 0.2", (Supplier<Loss>) () -> new CrossEntropyLoss(0.2f)},
            new Object[] {"mse", (Supplier<Loss>) ElementwiseLoss::mse},
            new Object[] {"l1", (Supplier<Loss>) ElementwiseLoss::l1},
            new Object[] {"smooth l1 0.5", (Supplier<Loss>) () -> ElementwiseLoss.smoothL1(0.5f)},
            new Object[] {"bce with logits", (Supplier<Loss>) ElementwiseLoss::bceWithLogits});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientCases")
    void gradientsMatchFiniteDifferences(String name, Supplier<Loss> factory) {
        for (int[] shape : new int[][] {{5, 7}, {1, 3}, {9, 2}}) {
            try (Loss loss = factory.get();
                 Tensor input = device.fromArray(Shape.of(shape), TestData.spaced(shape[0] * shape[1], 0.37, shape[0]));
                 Tensor target = targetFor(loss, shape)) {
                GradientChecker.Report report = new GradientChecker(1e-2, 1e-2, 100).checkLoss(loss, input, target, 3);
                assertTrue(report.passed(), name + " " + java.util.Arrays.toString(shape) + ": " + report);
            }
        }
    }

    private static Tensor targetFor(Loss loss, int[] shape) {
        if (loss instanceof CrossEntropyLoss) {
            return device.fromInts(Shape.of(shape[0]), TestData.labels(shape[0], shape[1], 5));
        }
        float[] values = TestData.uniform(shape[0] * shape[1], 1.0, 9);
        if (loss.describe().startsWith("BCE")) {
            for (int i = 0; i < values.length; i++) {
                values[i] = Math.abs(values[i]);
            }
        } else {
            // Keep |input − target| away from the L1 kink at 0: targets sit between the spaced inputs.
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (Math.round(values[i] / 0.37) * 0.37);
            }
        }
        return device.fromArray(Shape.of(shape), values);
    }

    @Test
    void crossEntropyIsStableForHugeLogits() {
        try (Loss loss = new CrossEntropyLoss();
             Tensor logits = device.fromArray(Shape.of(2, 3), 1000f, -1000f, 0f, -5000f, 5000f, 4000f);
             Tensor labels = device.fromInts(Shape.of(2), 0, 2)) {
            float value = loss.forward(logits, labels, true).item();
            assertEquals(500f, value, 1e-3f);
            for (float g : loss.backward().toFloatArray()) {
                assertTrue(Float.isFinite(g));
            }
        }
    }

    @Test
    void badLabelsAndShapesAreRefused() {
        try (Loss loss = new CrossEntropyLoss();
             Tensor logits = device.allocate(Shape.of(2, 3));
             Tensor outOfRange = device.fromInts(Shape.of(2), 0, 3);
             Tensor wrongCount = device.fromInts(Shape.of(3), 0, 1, 2);
             Tensor floats = device.allocate(Shape.of(2))) {
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                    () -> loss.forward(logits, outOfRange, true));
            assertTrue(range.getMessage().contains("label 3 of sample 1 is outside [0, 3)"), range.getMessage());
            assertThrows(IllegalArgumentException.class, () -> loss.forward(logits, wrongCount, true));
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class, () -> loss.forward(logits, floats, true));
            assertTrue(dtype.getMessage().contains("is F32, expected I32"), dtype.getMessage());
        }
        try (Loss mse = ElementwiseLoss.mse(); Tensor a = device.allocate(Shape.of(2, 3)); Tensor b = device.allocate(Shape.of(3, 2))) {
            assertThrows(IllegalArgumentException.class, () -> mse.forward(a, b, true));
            assertThrows(IllegalStateException.class, () -> ElementwiseLoss.l1().backward());
        }
        assertThrows(IllegalArgumentException.class, () -> new CrossEntropyLoss(1.5f));
        assertThrows(IllegalArgumentException.class, () -> ElementwiseLoss.smoothL1(0f));
        try (Tensor labels = device.allocate(Shape.of(2), DType.I32)) {
            assertEquals(DType.I32, labels.dtype());
        }
    }
}
