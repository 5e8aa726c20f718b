package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
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
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Concat against PyTorch's torch.cat of branches (fixtures/concat, from make_fixtures_concat.py) on
 * both CPU engines, against finite differences, the channel-copy kernel it is made of, and its refusals.
 */
class ConcatTest {
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

    private static Device device(String engine) {
        return engine.equals("openblas") ? openblas : onednn;
    }

    /** The modules of make_fixtures_concat.py, named as PyTorch names them. */
    static Layer build(String model) {
        return switch (model) {
            case "conv_identity_pointwise" -> new Concat(Conv2d.of(3, 2, 3).padding(1), new Identity(),
                    new Sequential(Conv2d.of(3, 4, 1), new Tanh()));
            case "unet_skip" -> new Concat(new Identity(), new Sequential(new MaxPool2d(2), Conv2d.of(2, 4, 3).padding(1),
                    new ConvTranspose2d(4, 3, 2, 2, 0, 0, 1, 1, true)));
            default -> throw new IllegalArgumentException("unknown fixture model " + model);
        };
    }

    static Stream<Arguments> fixtures() {
        List<Arguments> cases = new ArrayList<>();
        for (String name : Fixtures.cases("concat")) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    @Test
    void fixturesExist() {
        assertTrue(Fixtures.cases("concat").size() >= 2, "fixtures/concat is missing its cases");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = device(engine);
        try (SafeTensors fixture = Fixtures.open("concat", name);
             Layer layer = build((String) Fixtures.config(fixture).get("model"))) {
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            assertEquals(Shape.of(fixture.entry("output").shape()), layer.outputShape(), name + " output shape");
            Set<String> expectedNames = new TreeSet<>();
            for (String entry : fixture.entries().keySet()) {
                if (entry.startsWith("param.")) {
                    expectedNames.add(entry.substring("param.".length()));
                }
            }
            Set<String> names = new TreeSet<>();
            for (Parameter parameter : layer.parameters()) {
                names.add(parameter.name());
                parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
                device.elementwise().fill(parameter.grad(), 0f);
            }
            assertEquals(expectedNames, names, name + ": parameter names are PyTorch's");
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
        List<Arguments> layers = List.of(
                arguments("conv, identity, pointwise", (Supplier<Layer>) () -> build("conv_identity_pointwise"),
                        Shape.of(2, 3, 4, 3)),
                arguments("after a conv, nested", (Supplier<Layer>) () -> new Sequential(Conv2d.of(2, 3, 1),
                        new Concat(new Identity(), new Concat(new Tanh(), Conv2d.of(3, 2, 3).padding(1))), Conv2d.of(8, 2, 1)),
                        Shape.of(2, 2, 4, 4)),
                arguments("single branch", (Supplier<Layer>) () -> new Concat(new Sequential(Conv2d.of(2, 3, 3).padding(1))),
                        Shape.of(1, 2, 3, 3)));
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
        Device device = device(engine);
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

    @ParameterizedTest(name = "copyChannels between layouts on {0}")
    @ValueSource(strings = {"default", "openblas"})
    void copyChannelsCopiesTheRunBetweenAnyLayouts(String engine) {
        Device device = device(engine);
        Shape fromShape = Shape.of(2, 3, 2, 2);
        Shape toShape = Shape.of(2, 5, 2, 2);
        float[] values = new float[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i + 1;
        }
        List<Layout> layouts = device.supports(Layout.CHANNELS_LAST) ? List.of(Layout.ROW_MAJOR, Layout.CHANNELS_LAST)
                : List.of(Layout.ROW_MAJOR);
        for (Layout fromLayout : layouts) {
            for (Layout toLayout : layouts) {
                try (Tensor from = device.allocate(fromShape, DType.F32, fromLayout);
                     Tensor to = device.allocate(toShape, DType.F32, toLayout)) {
                    from.copyFrom(values);
                    device.elementwise().fill(to, -1f);
                    device.elementwise().copyChannels(from, 1, to, 3, 2);
                    float[] expected = new float[40];
                    java.util.Arrays.fill(expected, -1f);
                    for (int n = 0; n < 2; n++) {
                        for (int c = 0; c < 2; c++) {
                            for (int k = 0; k < 4; k++) {
                                expected[(n * 5 + 3 + c) * 4 + k] = values[(n * 3 + 1 + c) * 4 + k];
                            }
                        }
                    }
                    assertArrayEquals(expected, to.toFloatArray(), fromLayout + " to " + toLayout);
                }
            }
        }
    }

    @Test
    void copyChannelsRefusesWhatDoesNotFitNamingTheShapes() {
        try (Tensor from = onednn.allocate(Shape.of(2, 3, 4, 4)); Tensor to = onednn.allocate(Shape.of(2, 4, 4, 4));
             Tensor other = onednn.allocate(Shape.of(2, 4, 4, 5))) {
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                    () -> onednn.elementwise().copyChannels(from, 2, to, 0, 2));
            assertTrue(range.getMessage().contains("copyChannels") && range.getMessage().contains("[2, 3, 4, 4]"),
                    range.getMessage());
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().copyChannels(from, 0, to, 3, 2));
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().copyChannels(from, 0, to, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().copyChannels(from, -1, to, 0, 1));
            IllegalArgumentException spatial = assertThrows(IllegalArgumentException.class,
                    () -> onednn.elementwise().copyChannels(from, 0, other, 0, 1));
            assertTrue(spatial.getMessage().contains("[2, 4, 4, 5]"), spatial.getMessage());
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().copyChannels(to, 0, to, 1, 1));
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().copyChannels(null, 0, to, 1, 1));
        }
    }

    @Test
    void branchesThatDisagreeAreRefusedNamingTheirShapes() {
        try (Concat concat = new Concat(Conv2d.of(2, 3, 3).padding(1), Conv2d.of(2, 3, 3))) {
            IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                    () -> concat.setup(onednn, Shape.of(1, 2, 6, 6)));
            assertTrue(mismatch.getMessage().contains("[1, 3, 6, 6]") && mismatch.getMessage().contains("[1, 3, 4, 4]")
                    && mismatch.getMessage().contains("'branches.1'"), mismatch.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new Concat().setup(onednn, Shape.of(1, 2, 3, 3)));
        assertThrows(IllegalArgumentException.class, () -> new Concat().add("", new Identity()));
        assertThrows(IllegalArgumentException.class, () -> new Concat().add("a", new Identity()).add("a", new Identity()));
        assertThrows(IllegalArgumentException.class, () -> new Concat((Layer) null));
    }

    @Test
    void namedAndUnnamedBranchesNameTheirParametersAsTorchvisionWould() {
        try (Concat inception = new Concat().add("branch1x1", Conv2d.of(4, 2, 1))
                .add("", new Sequential().add("branch3x3_1", Conv2d.of(4, 2, 1)).add("branch3x3_2", Conv2d.of(2, 3, 3).padding(1)))) {
            inception.setup(onednn, Shape.of(1, 4, 5, 5));
            assertEquals(Shape.of(1, 5, 5, 5), inception.outputShape());
            List<String> names = inception.parameters().stream().map(Parameter::name).toList();
            assertEquals(List.of("branch1x1.weight", "branch1x1.bias", "branch3x3_1.weight", "branch3x3_1.bias",
                    "branch3x3_2.weight", "branch3x3_2.bias"), names);
            assertEquals(List.of("branch1x1", "branch3x3_1", "branch3x3_2"), List.copyOf(inception.children().keySet()));
        }
    }
}
