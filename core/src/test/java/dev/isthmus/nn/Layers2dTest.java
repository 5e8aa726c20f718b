package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The new 2-D layers (AdaptiveAvgPool2d so far) against PyTorch (fixtures/layers2, from
 * make_fixtures_layers2.py) on both CPU engines (oneDNN and OpenBLAS + Java), and against finite differences.
 */
class Layers2dTest {
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;
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
        for (String name : Fixtures.cases("layers2")) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    static Layer build(Map<String, Object> config) {
        String kind = (String) config.get("layer");
        List<?> size = (List<?>) config.get("output_size");
        return switch (kind) {
            case "AdaptiveAvgPool2d" -> new AdaptiveAvgPool2d(((Number) size.get(0)).intValue(),
                    ((Number) size.get(1)).intValue());
            default -> throw new IllegalArgumentException("unknown fixture layer " + kind);
        };
    }

    @Test
    void fixturesExist() {
        assertTrue(Fixtures.cases("layers2").size() >= 3, "fixtures/layers2 is missing its cases");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        try (SafeTensors fixture = Fixtures.open("layers2", name); Layer layer = build(Fixtures.config(fixture))) {
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            assertEquals(Shape.of(fixture.entry("output").shape()), layer.outputShape(), name + " output shape");
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"));
                 Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                Tensor output = layer.forward(input, true);
                assertClose(name + " output", fixture.floats("output"), output.toFloatArray(), RTOL, ATOL);
                Tensor gradInput = layer.backward(gradOutput);
                assertClose(name + " input gradient", fixture.floats("grad_input"), gradInput.toFloatArray(), RTOL, ATOL);
            }
        }
    }

    @ParameterizedTest(name = "AdaptiveAvgPool2d gradient on {0}")
    @MethodSource("engines")
    void adaptiveAvgPoolGradientMatchesFiniteDifferences(String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        Shape inputShape = Shape.of(2, 3, 6, 4);
        for (long seed = 1; seed <= 2; seed++) {
            try (Layer layer = new AdaptiveAvgPool2d(3, 2)) {
                layer.setup(device, inputShape);
                float[] values = TestData.uniform((int) inputShape.elementCount(), 1.0, seed);
                try (Tensor input = device.fromArray(inputShape, values)) {
                    GradientChecker.Report report = new GradientChecker().check(layer, input, seed * 31);
                    assertTrue(report.passed(), "seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, "nothing was probed");
                }
            }
        }
    }

    static Stream<String> engines() {
        return Stream.of("default", "openblas");
    }

    @Test
    void adaptiveAvgPoolRefusesBadSizesAndRanksNamingThem() {
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveAvgPool2d(0, 2));
        try (AdaptiveAvgPool2d pool = new AdaptiveAvgPool2d(2, 3)) {
            // Sizes that do not divide the input's run on windows of varying size (AlexNetLayersTest).
            assertEquals(Shape.of(1, 2, 2, 3), pool.setup(onednn, Shape.of(1, 2, 5, 6)));
            IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                    () -> pool.setup(onednn, Shape.of(2, 6)));
            assertTrue(rank.getMessage().contains("AdaptiveAvgPool2d"), rank.getMessage());
        }
    }

    @Test
    void adaptiveAvgPoolRunsInsideASequential() {
        try (Sequential model = new Sequential(new Conv2d(2, 3, 3, 1, 1, true), new AdaptiveAvgPool2d(2), new Flatten(),
                new Linear(12, 2))) {
            model.setup(onednn, Shape.of(2, 2, 8, 8));
            assertEquals(Shape.of(2, 2), model.outputShape());
        }
    }
}
