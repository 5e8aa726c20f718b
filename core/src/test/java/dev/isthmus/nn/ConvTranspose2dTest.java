package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * ConvTranspose2d against PyTorch (fixtures/convtranspose, from make_fixtures_convtranspose.py) on
 * both CPU engines (oneDNN and OpenBLAS + Java), against finite differences, and its refusals.
 */
class ConvTranspose2dTest {
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
        for (String name : Fixtures.cases("convtranspose")) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    static ConvTranspose2d build(Map<String, Object> config) {
        int[] kernel = Fixtures.pair(config, "kernel_size");
        int[] stride = Fixtures.pair(config, "stride");
        int[] padding = Fixtures.pair(config, "padding");
        int[] outputPadding = Fixtures.pair(config, "output_padding");
        int[] dilation = Fixtures.pair(config, "dilation");
        return new ConvTranspose2d(Fixtures.integer(config, "in_channels"), Fixtures.integer(config, "out_channels"),
                kernel[0], 1, 0, 0, 1, Fixtures.integer(config, "groups"), (Boolean) config.get("bias"))
                .kernel(kernel[0], kernel[1]).stride(stride[0], stride[1]).padding(padding[0], padding[1])
                .dilation(dilation[0], dilation[1]).outputPadding(outputPadding[0], outputPadding[1]);
    }

    @Test
    void fixturesExist() {
        assertTrue(Fixtures.cases("convtranspose").size() >= 7, "fixtures/convtranspose is missing its cases");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        try (SafeTensors fixture = Fixtures.open("convtranspose", name); Layer layer = build(Fixtures.config(fixture))) {
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            assertEquals(Shape.of(fixture.entry("output").shape()), layer.outputShape(), name + " output shape");
            for (Parameter parameter : layer.parameters()) {
                parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
                device.elementwise().fill(parameter.grad(), 0f);
            }
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"));
                 Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                Tensor output = layer.forward(input, true);
                assertClose(name + " output", fixture.floats("output"), output.toFloatArray(), RTOL, ATOL);
                Tensor gradInput = layer.backward(gradOutput);
                assertClose(name + " input gradient", fixture.floats("grad_input"), gradInput.toFloatArray(), RTOL, ATOL);
                for (Parameter parameter : layer.parameters()) {
                    assertClose(name + " " + parameter.name() + " gradient", fixture.floats("grad." + parameter.name()),
                            parameter.grad().toFloatArray(), RTOL, ATOL);
                }
            }
        }
    }

    static List<String> bf16Cases() {
        return Fixtures.cases("convtranspose_bf16");
    }

    /** Under the BF16 policy: autocast's computation (make_fixtures_convtranspose.py) to F32 accuracy, and near FP32. */
    @ParameterizedTest(name = "BF16 {0}")
    @MethodSource("bf16Cases")
    void bf16MatchesTheRoundedOperandsAndStaysNearFp32(String name) {
        String unsupported = onednn.lowPrecisionSupport(DType.BF16);
        Assumptions.assumeTrue(unsupported == null, "BF16 is not offered on this CPU: " + unsupported);
        try (SafeTensors fixture = Fixtures.open("convtranspose_bf16", name); Layer layer = build(Fixtures.config(fixture))) {
            layer.setPrecision(Precision.BF16);
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(onednn, inputShape);
            for (Parameter parameter : layer.parameters()) {
                parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
                onednn.elementwise().fill(parameter.grad(), 0f);
            }
            try (Tensor input = onednn.fromArray(inputShape, fixture.floats("input"));
                 Tensor gradOutput = onednn.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                float[] output = layer.forward(input, true).toFloatArray();
                assertClose(name + " output", fixture.floats("output"), output, RTOL, ATOL);
                MixedPrecisionLayerTest.assertNear(name + " output", fixture.floats("output_fp32"), output);
                float[] gradInput = layer.backward(gradOutput).toFloatArray();
                assertClose(name + " input gradient", fixture.floats("grad_input"), gradInput, RTOL, ATOL);
                MixedPrecisionLayerTest.assertNear(name + " input gradient", fixture.floats("grad_input_fp32"), gradInput);
                for (Parameter parameter : layer.parameters()) {
                    float[] grad = parameter.grad().toFloatArray();
                    assertClose(name + " " + parameter.name() + " gradient", fixture.floats("grad." + parameter.name()),
                            grad, RTOL, ATOL);
                    MixedPrecisionLayerTest.assertNear(name + " " + parameter.name() + " gradient",
                            fixture.floats("grad_fp32." + parameter.name()), grad);
                }
            }
        }
    }

    static Stream<Arguments> gradientCases() {
        List<Arguments> cases = new ArrayList<>();
        List<Arguments> layers = List.of(
                arguments("k2 s2", (Supplier<Layer>) () -> new ConvTranspose2d(3, 2, 2, 2, 0, 0, 1, 1, true),
                        Shape.of(2, 3, 3, 2)),
                arguments("k3 s2 p1 op1 groups 2 no bias",
                        (Supplier<Layer>) () -> new ConvTranspose2d(4, 2, 3, 2, 1, 1, 1, 2, false), Shape.of(1, 4, 3, 3)),
                arguments("k3 dilation 2", (Supplier<Layer>) () -> new ConvTranspose2d(2, 3, 3, 1, 1, 0, 2, 1, true),
                        Shape.of(2, 2, 4, 3)));
        for (String engine : List.of("default", "openblas")) {
            for (Arguments layer : layers) {
                Object[] values = layer.get();
                cases.add(arguments(values[0], values[1], values[2], engine));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} on {3}")
    @MethodSource("gradientCases")
    void gradientsMatchFiniteDifferences(String name, Supplier<Layer> factory, Shape inputShape, String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        for (long seed = 1; seed <= 2; seed++) {
            try (Layer layer = factory.get()) {
                layer.setup(device, inputShape);
                layer.resetParameters(new SplittableRandom(seed));
                float[] values = TestData.uniform((int) inputShape.elementCount(), 1.0, seed);
                try (Tensor input = device.fromArray(inputShape, values)) {
                    GradientChecker.Report report = new GradientChecker().check(layer, input, seed * 31);
                    assertTrue(report.passed(), name + " seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, name + ": nothing was probed");
                }
            }
        }
    }

    @Test
    void outputSizeFollowsPyTorchsFormula() {
        // (H-1)·s - 2p + d·(k-1) + output_padding + 1
        assertEquals(Shape.of(2, 8, 16, 16), new ConvTranspose2d(16, 8, 2, 2, 0, 0, 1, 1, true).outputShapeOf(Shape.of(2, 16, 8, 8)));
        assertEquals(Shape.of(1, 3, 10, 10), new ConvTranspose2d(2, 3, 3, 2, 1, 1, 1, 1, true).outputShapeOf(Shape.of(1, 2, 5, 5)));
        assertEquals(Shape.of(1, 3, 9, 9), new ConvTranspose2d(2, 3, 3, 1, 0, 0, 2, 1, true).outputShapeOf(Shape.of(1, 2, 5, 5)));
    }

    @Test
    void weightLayoutNamesAndDefaultInitAreTorchs() {
        try (ConvTranspose2d layer = new ConvTranspose2d(6, 4, 3, 2, 1, 0, 1, 2, true)) {
            layer.setup(onednn, Shape.of(1, 6, 4, 4));
            layer.resetParameters(new SplittableRandom(3));
            List<Parameter> parameters = layer.parameters();
            assertEquals("weight", parameters.get(0).name());
            assertEquals(Shape.of(6, 2, 3, 3), parameters.get(0).value().shape());
            assertEquals("bias", parameters.get(1).name());
            assertEquals(Shape.of(4), parameters.get(1).value().shape());
            // kaiming_uniform(a=√5) gives U(±1/√fan_in), fan_in = (out/groups)·k·k = 18; the bias the same bound.
            double bound = 1 / Math.sqrt(18);
            for (Parameter parameter : parameters) {
                float largest = 0;
                for (float value : parameter.value().toFloatArray()) {
                    largest = Math.max(largest, Math.abs(value));
                }
                assertTrue(largest <= bound + 1e-6 && largest > bound / 3, parameter.name() + ": largest " + largest);
            }
        }
    }

    @Test
    void impossibleSettingsAreRefusedNamingThem() {
        IllegalArgumentException outputPadding = assertThrows(IllegalArgumentException.class,
                () -> new ConvTranspose2d(2, 3, 3, 2, 0, 2, 1, 1, true));
        assertTrue(outputPadding.getMessage().contains("output padding must be smaller than either stride or dilation"),
                outputPadding.getMessage());
        IllegalArgumentException belowDilation = assertThrows(IllegalArgumentException.class,
                () -> new ConvTranspose2d(2, 3, 3, 1, 0, 1, 2, 1, true));
        assertTrue(belowDilation.getMessage().contains("not supported"), belowDilation.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(3, 4, 3, 1, 0, 0, 1, 2, true));
        assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(2, 3, 0, 1, 0, 0, 1, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(2, 3, 3, 0, 0, 0, 1, 1, true));
        assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(2, 3, 3, 1, -1, 0, 1, 1, true));
        try (ConvTranspose2d layer = new ConvTranspose2d(2, 3, 1, 1, 3, 0, 1, 1, true)) {
            IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                    () -> layer.setup(onednn, Shape.of(1, 2, 4, 4)));
            assertTrue(tooSmall.getMessage().contains("ConvTranspose2d(2, 3") && tooSmall.getMessage().contains("-2x-2"),
                    tooSmall.getMessage());
            IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                    () -> layer.setup(onednn, Shape.of(1, 3, 4, 4)));
            assertTrue(channels.getMessage().contains("[N, 2, H, W]"), channels.getMessage());
        }
    }

    @Test
    void runsInsideASequentialAsAnEncoderDecoder() {
        try (Sequential model = new Sequential(Conv2d.of(2, 4, 3).stride(2).padding(1), new ReLU(),
                new ConvTranspose2d(4, 3, 2, 2, 0, 0, 1, 1, true))) {
            model.setup(onednn, Shape.of(2, 2, 8, 8));
            assertEquals(Shape.of(2, 3, 8, 8), model.outputShape());
            model.resetParameters(new SplittableRandom(1));
            try (Tensor input = onednn.fromArray(Shape.of(2, 2, 8, 8), TestData.uniform(256, 1.0, 5));
                 Tensor gradOutput = onednn.fromArray(Shape.of(2, 3, 8, 8), TestData.uniform(384, 1.0, 6))) {
                assertEquals(Shape.of(2, 3, 8, 8), model.forward(input, true).shape());
                model.backward(gradOutput);
            }
        }
    }
}
