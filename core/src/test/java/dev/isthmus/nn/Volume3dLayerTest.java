package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.Dims3;
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
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static dev.isthmus.testing.Fixtures.integer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Conv3d, MaxPool3d and AvgPool3d against PyTorch (fixtures/layers3d, from make_fixtures_3d.py)
 * on both CPU engines (oneDNN and OpenBLAS + Java), and against finite differences.
 */
class Volume3dLayerTest {
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
        for (String name : Fixtures.cases("layers3d")) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    private static Dims3 dims(Map<String, Object> config, String key) {
        List<?> values = (List<?>) config.get(key);
        return new Dims3(((Number) values.get(0)).intValue(), ((Number) values.get(1)).intValue(),
                ((Number) values.get(2)).intValue());
    }

    static Layer build(Map<String, Object> config) {
        String kind = (String) config.get("layer");
        return switch (kind) {
            case "Conv3d" -> Conv3d.of(integer(config, "in_channels"), integer(config, "out_channels"), dims(config, "kernel_size"))
                    .stride(dims(config, "stride")).padding(dims(config, "padding")).dilation(dims(config, "dilation"))
                    .groups(integer(config, "groups")).bias((Boolean) config.get("bias"));
            case "MaxPool3d" -> MaxPool3d.of(dims(config, "kernel_size")).stride(dims(config, "stride"))
                    .padding(dims(config, "padding")).ceilMode((Boolean) config.get("ceil_mode"));
            case "AvgPool3d" -> AvgPool3d.of(dims(config, "kernel_size")).stride(dims(config, "stride"))
                    .padding(dims(config, "padding")).ceilMode((Boolean) config.get("ceil_mode"))
                    .countIncludePad((Boolean) config.get("count_include_pad"));
            default -> throw new AssertionError("fixture for an unknown layer " + kind);
        };
    }

    @Test
    void everyKindAndModeHasAFixture() {
        List<String> cases = Fixtures.cases("layers3d");
        for (String kind : List.of("conv3d", "maxpool3d", "avgpool3d", "maxpool3d_k2s2_ceil", "avgpool3d_k3s2p1_ceil_exclude",
                "avgpool3d_k3s2p1_exclude")) {
            assertTrue(cases.stream().anyMatch(c -> c.startsWith(kind)), "no fixture for " + kind);
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        try (SafeTensors fixture = Fixtures.open("layers3d", name); Layer layer = build(Fixtures.config(fixture))) {
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

    static Stream<Arguments> gradientCases() {
        List<Arguments> cases = new ArrayList<>();
        for (String engine : List.of("default", "openblas")) {
            cases.add(arguments("Conv3d 3 pad 1", engine, (Supplier<Layer>) () -> Conv3d.of(2, 3, 3).padding(1),
                    Shape.of(2, 2, 3, 4, 4), false));
            cases.add(arguments("Conv3d 1x3x3 stride 1x2x2 groups 2", engine, (Supplier<Layer>) () -> Conv3d.of(4, 2,
                    new Dims3(1, 3, 3)).stride(new Dims3(1, 2, 2)).padding(new Dims3(0, 1, 1)).groups(2),
                    Shape.of(1, 4, 2, 5, 5), false));
            cases.add(arguments("Conv3d dilation 2 no bias", engine, (Supplier<Layer>) () -> Conv3d.of(1, 2, 2).dilation(2)
                    .padding(1).bias(false), Shape.of(2, 1, 4, 4, 3), false));
            cases.add(arguments("MaxPool3d 1x2x2", engine, (Supplier<Layer>) () -> MaxPool3d.of(new Dims3(1, 2, 2)),
                    Shape.of(2, 2, 2, 4, 4), true));
            cases.add(arguments("MaxPool3d 3 s2 p1 ceil", engine, (Supplier<Layer>) () -> MaxPool3d.of(3).stride(2).padding(1)
                    .ceilMode(true), Shape.of(1, 2, 4, 6, 5), true));
            cases.add(arguments("AvgPool3d 2 ceil", engine, (Supplier<Layer>) () -> AvgPool3d.of(2).ceilMode(true),
                    Shape.of(1, 2, 3, 5, 4), false));
            cases.add(arguments("AvgPool3d 3 s2 p1 exclude ceil", engine, (Supplier<Layer>) () -> AvgPool3d.of(3).stride(2)
                    .padding(1).ceilMode(true).countIncludePad(false), Shape.of(1, 2, 4, 6, 5), false));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("gradientCases")
    void analyticGradientsMatchFiniteDifferences(String name, String engine, Supplier<Layer> factory, Shape inputShape,
                                                 boolean spaced) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        for (long seed = 1; seed <= 2; seed++) {
            try (Layer layer = factory.get()) {
                layer.setup(device, inputShape);
                layer.resetParameters(new SplittableRandom(seed));
                int count = (int) inputShape.elementCount();
                float[] values = spaced ? TestData.spaced(count, 0.05, seed) : TestData.uniform(count, 1.0, seed);
                try (Tensor input = device.fromArray(inputShape, values)) {
                    GradientChecker.Report report = new GradientChecker().check(layer, input, seed * 31);
                    assertTrue(report.passed(), name + " seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, name + ": nothing was probed");
                }
            }
        }
    }

    @Test
    void parametersHavePyTorchNamesShapesAndInitialisationBounds() {
        try (Conv3d conv = Conv3d.of(4, 6, new Dims3(3, 1, 3)).groups(2)) {
            conv.setup(onednn, Shape.of(1, 4, 3, 3, 3));
            conv.resetParameters(new SplittableRandom(3));
            List<Parameter> parameters = conv.parameters();
            assertEquals("weight", parameters.get(0).name());
            assertEquals(Shape.of(6, 2, 3, 1, 3), parameters.get(0).value().shape());
            assertEquals("bias", parameters.get(1).name());
            // kaiming_uniform_(a=√5) gives U(±1/√fan_in), fan_in = 2·3·1·3 = 18; the bias the same bound.
            double bound = 1 / Math.sqrt(18);
            for (Parameter parameter : parameters) {
                for (float v : parameter.value().toFloatArray()) {
                    assertTrue(Math.abs(v) <= bound + 1e-7, parameter.name() + " value " + v + " beyond " + bound);
                }
            }
        }
    }

    @Test
    void impossibleSettingsAndInputsAreRefusedWithTheirNumbers() {
        assertThrows(IllegalArgumentException.class, () -> Conv3d.of(3, 4, 3).groups(2));
        assertThrows(IllegalArgumentException.class, () -> Conv3d.of(3, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> MaxPool3d.of(2).padding(2));
        assertThrows(IllegalArgumentException.class, () -> AvgPool3d.of(3).stride(0));
        try (Conv3d conv = Conv3d.of(3, 4, 3)) {
            IllegalArgumentException wrongRank = assertThrows(IllegalArgumentException.class,
                    () -> conv.setup(onednn, Shape.of(2, 3, 8, 8)));
            assertTrue(wrongRank.getMessage().contains("[N, 3, D, H, W]"), wrongRank.getMessage());
            IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class,
                    () -> conv.setup(onednn, Shape.of(2, 3, 2, 8, 8)));
            assertTrue(tooSmall.getMessage().contains("Conv3d"), tooSmall.getMessage());
        }
        try (MaxPool3d pool = MaxPool3d.of(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.setup(onednn, Shape.of(1, 1, 1, 4, 4)));
        }
    }

    @Test
    void bothEnginesAgreeOnAC3dBlock() {
        Shape input = Shape.of(2, 3, 4, 8, 8);
        float[] values = TestData.uniform((int) input.elementCount(), 1.0, 5);
        float[][] outputs = new float[2][];
        Device[] devices = {onednn, openblas};
        for (int i = 0; i < 2; i++) {
            try (Sequential block = new Sequential(Conv3d.of(3, 8, 3).padding(1), new ReLU(),
                    MaxPool3d.of(new Dims3(1, 2, 2)), Conv3d.of(8, 4, 3).padding(1), new ReLU(), MaxPool3d.of(2).ceilMode(true));
                 Tensor x = devices[i].fromArray(input, values)) {
                block.setup(devices[i], input);
                block.resetParameters(new SplittableRandom(9));
                outputs[i] = block.forward(x, false).toFloatArray();
            }
        }
        assertClose("oneDNN against OpenBLAS", outputs[1], outputs[0], 1e-4, 1e-5);
    }
}
