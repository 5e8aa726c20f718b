package dev.isthmus.loss;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Per-pixel cross-entropy ([N, C, H, W] logits, [N, H, W] labels) against PyTorch
 * (fixtures/losses_seg from make_fixtures_3d.py) on both CPU engines, with logits in the layout a
 * network would give them, and against finite differences.
 */
class SegmentationLossTest {
    private static Device onednn;
    private static Device openblas;

    @BeforeAll
    static void open() {
        onednn = new CpuDevice(2, CpuBackend.AUTO);
        openblas = new CpuDevice(2, CpuBackend.OPENBLAS);
    }

    @AfterAll
    static void close() {
        onednn.close();
        openblas.close();
    }

    static Stream<Arguments> fixtures() {
        List<Arguments> cases = new ArrayList<>();
        for (String name : Fixtures.cases("losses_seg")) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        try (SafeTensors fixture = Fixtures.open("losses_seg", name)) {
            int ignoreIndex = Fixtures.integer(Fixtures.config(fixture), "ignore_index");
            Shape shape = Shape.of(fixture.entry("input").shape());
            try (CrossEntropyLoss loss = CrossEntropyLoss.ignoring(ignoreIndex);
                 // A network's output: channels-last on the oneDNN engine.
                 Tensor logits = device.allocateActivation(shape).copyFrom(fixture.floats("input"));
                 Tensor labels = device.fromInts(Shape.of(fixture.entry("target").shape()), fixture.ints("target"))) {
                Tensor value = loss.forward(logits, labels, true);
                assertClose(name + " loss", fixture.floats("loss"), value.toFloatArray(), 1e-5, 1e-6);
                assertClose(name + " gradient", fixture.floats("grad_input"), loss.backward().toFloatArray(), 1e-4, 1e-6);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Shape shape = Shape.of(2, 3, 2, 3);
        float[] values = TestData.uniform(36, 2.0, 4);
        int[] labels = TestData.labels(12, 3, 5);
        labels[4] = -100;
        try (CrossEntropyLoss loss = new CrossEntropyLoss();
             Tensor logits = onednn.fromArray(shape, values);
             Tensor target = onednn.fromInts(Shape.of(2, 2, 3), labels)) {
            loss.forward(logits, target, true);
            float[] analytic = loss.backward().toFloatArray();
            double step = 1e-2;
            for (int i = 0; i < values.length; i++) {
                float saved = values[i];
                values[i] = (float) (saved + step);
                logits.copyFrom(values);
                double plus = loss.forward(logits, target, false).item();
                values[i] = (float) (saved - step);
                logits.copyFrom(values);
                double minus = loss.forward(logits, target, false).item();
                values[i] = saved;
                double numeric = (plus - minus) / (2 * step);
                assertEquals(numeric, analytic[i], 2e-3 * Math.max(1, Math.abs(numeric)), "d loss / d logit " + i);
            }
        }
    }

    @Test
    void everyPixelIgnoredGivesNanAndNoGradientAsPyTorch() {
        try (CrossEntropyLoss loss = CrossEntropyLoss.ignoring(255);
             Tensor logits = openblas.fromArray(Shape.of(1, 2, 2, 2), TestData.uniform(8, 1, 1));
             Tensor labels = openblas.fromInts(Shape.of(1, 2, 2), 255, 255, 255, 255)) {
            assertTrue(Float.isNaN(loss.forward(logits, labels, true).item()));
            for (float g : loss.backward().toFloatArray()) {
                assertEquals(0f, g);
            }
        }
    }

    @Test
    void badLabelsAndShapesAreRefusedNamingThem() {
        try (CrossEntropyLoss loss = new CrossEntropyLoss();
             Tensor logits = onednn.fromArray(Shape.of(1, 3, 2, 2), TestData.uniform(12, 1, 1));
             Tensor outside = onednn.fromInts(Shape.of(1, 2, 2), 0, 1, 3, 2);
             Tensor wrongShape = onednn.fromInts(Shape.of(1, 4), 0, 1, 2, 0)) {
            IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                    () -> loss.forward(logits, outside, true));
            assertTrue(label.getMessage().contains("label 3"), label.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> loss.forward(logits, wrongShape, true));
            assertTrue(shape.getMessage().contains("[1, 2, 2]"), shape.getMessage());
        }
        try (CrossEntropyLoss smoothed = new CrossEntropyLoss(0.1f);
             Tensor logits = onednn.fromArray(Shape.of(1, 3, 2, 2), TestData.uniform(12, 1, 1));
             Tensor labels = onednn.fromInts(Shape.of(1, 2, 2), 0, 1, 2, 0)) {
            assertThrows(IllegalArgumentException.class, () -> smoothed.forward(logits, labels, true));
        }
    }
}
