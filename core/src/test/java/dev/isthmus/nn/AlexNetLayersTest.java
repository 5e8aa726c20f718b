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
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * LocalResponseNorm, Maxout, BinaryStep and AdaptiveAvgPool2d of any output size against PyTorch
 * (fixtures/alexnet_layers, from make_fixtures_alexnet_layers.py) on both CPU engines (oneDNN, whose
 * image activations are channels-last, and OpenBLAS + Java, row-major), and against finite differences.
 */
class AlexNetLayersTest {
    private static final String GROUP = "alexnet_layers";
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
        for (String name : Fixtures.cases(GROUP)) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    static Stream<String> engines() {
        return Stream.of("default", "openblas");
    }

    private static Device device(String engine) {
        return engine.equals("openblas") ? openblas : onednn;
    }

    static Layer build(Map<String, Object> config) {
        String kind = (String) config.get("layer");
        return switch (kind) {
            case "LocalResponseNorm" -> new LocalResponseNorm(Fixtures.integer(config, "size"),
                    Fixtures.decimal(config, "alpha"), Fixtures.decimal(config, "beta"), Fixtures.decimal(config, "k"));
            case "Maxout" -> new Maxout(Fixtures.integer(config, "pieces"));
            case "BinaryStep" -> new BinaryStep();
            case "AdaptiveAvgPool2d" -> {
                int[] size = Fixtures.pair(config, "output_size");
                yield new AdaptiveAvgPool2d(size[0], size[1]);
            }
            default -> throw new IllegalArgumentException("unknown fixture layer " + kind);
        };
    }

    @Test
    void everyLayerHasFixtures() {
        List<String> names = Fixtures.cases(GROUP);
        for (String prefix : List.of("lrn_size4_even", "lrn_3d_input", "maxout_ties", "maxout_features", "binary_step",
                "adaptive_avgpool_7to3", "adaptive_avgpool_5to2", "adaptive_avgpool_13to6")) {
            assertTrue(names.contains(prefix), "fixtures/" + GROUP + " lacks " + prefix + ": " + names);
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = device(engine);
        try (SafeTensors fixture = Fixtures.open(GROUP, name); Layer layer = build(Fixtures.config(fixture))) {
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            assertEquals(Shape.of(fixture.entry("output").shape()), layer.outputShape(), name + " output shape");
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"))) {
                Tensor output = layer.forward(input, true);
                assertClose(name + " output", fixture.floats("output"), output.toFloatArray(), RTOL, ATOL);
                if (layer instanceof BinaryStep) {
                    return;
                }
                try (Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                    Tensor gradInput = layer.backward(gradOutput);
                    assertClose(name + " input gradient", fixture.floats("grad_input"), gradInput.toFloatArray(), RTOL,
                            ATOL);
                }
            }
        }
    }

    private static void gradientCheck(Device device, Supplier<Layer> make, Shape shape, boolean spaced) {
        for (long seed = 1; seed <= 2; seed++) {
            try (Layer layer = make.get()) {
                layer.setup(device, shape);
                int count = (int) shape.elementCount();
                // Maxout has a kink wherever two inputs of a group are equal: keep them apart.
                float[] values = spaced ? TestData.spaced(count, 0.05, seed) : TestData.uniform(count, 2.0, seed);
                try (Tensor input = device.fromArray(shape, values)) {
                    GradientChecker.Report report = new GradientChecker().check(layer, input, seed * 31);
                    assertTrue(report.passed(), layer.describe() + " seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, "nothing was probed");
                }
            }
        }
    }

    @ParameterizedTest(name = "LocalResponseNorm gradient on {0}")
    @MethodSource("engines")
    void localResponseNormGradientMatchesFiniteDifferences(String engine) {
        gradientCheck(device(engine), () -> new LocalResponseNorm(5, 0.5, 0.75, 2.0), Shape.of(2, 7, 3, 2), false);
        gradientCheck(device(engine), () -> new LocalResponseNorm(4, 0.8, 0.75, 1.0), Shape.of(2, 6, 3, 3), false);
        gradientCheck(device(engine), () -> new LocalResponseNorm(3, 0.6, 0.75, 1.0), Shape.of(2, 5, 4), false);
    }

    @ParameterizedTest(name = "Maxout gradient on {0}")
    @MethodSource("engines")
    void maxoutGradientMatchesFiniteDifferences(String engine) {
        gradientCheck(device(engine), () -> new Maxout(3), Shape.of(2, 6, 3, 2), true);
        gradientCheck(device(engine), () -> new Maxout(2), Shape.of(3, 8), true);
    }

    @ParameterizedTest(name = "AdaptiveAvgPool2d gradient on {0}")
    @MethodSource("engines")
    void nonUniformAdaptivePoolGradientMatchesFiniteDifferences(String engine) {
        gradientCheck(device(engine), () -> new AdaptiveAvgPool2d(3, 2), Shape.of(2, 3, 7, 5), false);
        gradientCheck(device(engine), () -> new AdaptiveAvgPool2d(4, 4), Shape.of(1, 2, 3, 3), false);
    }

    @Test
    void adaptivePoolKeepsTheUniformFastPathAndSaysWhichWindowsAreUniform() {
        try (AdaptiveAvgPool2d uniform = new AdaptiveAvgPool2d(2, 3); AdaptiveAvgPool2d varying = new AdaptiveAvgPool2d(3)) {
            uniform.setup(onednn, Shape.of(1, 2, 6, 9));
            assertEquals(3, uniform.window().kernelHeight());
            assertEquals(3, uniform.window().strideWidth());
            varying.setup(onednn, Shape.of(1, 2, 7, 7));
            assertTrue(!varying.uniformFor(Shape.of(1, 2, 7, 7)));
            IllegalStateException none = assertThrows(IllegalStateException.class, varying::window);
            assertTrue(none.getMessage().contains("varying size"), none.getMessage());
        }
    }

    @Test
    void binaryStepMatchesHeavisideAtZeroAndNaNAndRefusesToTrainThrough() {
        float[] values = {-1f, 0f, -0f, 2f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f};
        Shape shape = Shape.of(1, values.length);
        try (BinaryStep step = new BinaryStep(); Tensor input = openblas.fromArray(shape, values)) {
            step.setup(openblas, shape);
            assertArrayEquals(new float[] {0, 0, 0, 1, 0, 1, 0, 1}, step.forward(input, true).toFloatArray());
            try (Tensor gradOutput = openblas.fromArray(shape, new float[values.length])) {
                UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class,
                        () -> step.backward(gradOutput));
                assertTrue(refused.getMessage().contains("BinaryStep()") && refused.getMessage().contains("no useful gradient"),
                        refused.getMessage());
                step.setPropagateDown(false);
                assertNull(step.backward(gradOutput), "a first layer needs no gradient, so there is nothing to refuse");
            }
        }
    }

    @ParameterizedTest(name = "LocalResponseNorm keeps a NaN inside its windows on {0}")
    @MethodSource("engines")
    void localResponseNormKeepsANaNInsideTheWindowsThatHoldIt(String engine) {
        Device device = device(engine);
        Shape shape = Shape.of(1, 8, 1, 2);
        float[] values = TestData.uniform(16, 1.0, 5);
        values[2] = Float.NaN; // channel 1, first pixel: windows of size 3 around channels 0 to 2 hold it
        try (LocalResponseNorm lrn = new LocalResponseNorm(3, 0.5, 0.75, 1.0); Tensor x = device.fromArray(shape, values)) {
            lrn.setup(device, shape);
            float[] y = lrn.forward(x, true).toFloatArray();
            for (int c = 0; c < 8; c++) {
                assertEquals(c <= 2, Float.isNaN(y[2 * c]), "channel " + c + " first pixel: " + y[2 * c]);
                assertTrue(Float.isFinite(y[2 * c + 1]), "channel " + c + " second pixel: " + y[2 * c + 1]);
            }
        }
    }

    @Test
    void aTrainingStepThroughABinaryStepStopsWithTheReason() {
        try (Model model = new Model("step", new Sequential(new Linear(6, 4), new BinaryStep(), new Linear(4, 3)),
                Shape.of(6));
             dev.isthmus.loss.CrossEntropyLoss loss = new dev.isthmus.loss.CrossEntropyLoss()) {
            model.build(onednn, 2, 0);
            try (dev.isthmus.optim.Sgd sgd = new dev.isthmus.optim.Sgd(model.parameters(), 0.1, 0, 0, 0, false);
                 dev.isthmus.train.TrainStep step = new dev.isthmus.train.TrainStep(model, loss, sgd, 0);
                 dev.isthmus.train.DeviceBatch batch = dev.isthmus.train.DeviceBatch.allocate(model, 2)) {
                UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class,
                        () -> step.train(batch));
                assertTrue(refused.getMessage().contains("BinaryStep()"), refused.getMessage());
            }
        }
    }

    @Test
    void refusesImpossibleConfigurationsNamingThem() {
        assertThrows(IllegalArgumentException.class, () -> new LocalResponseNorm(0));
        assertThrows(IllegalArgumentException.class, () -> new LocalResponseNorm(3, Double.NaN, 0.75, 1));
        assertThrows(IllegalArgumentException.class, () -> new Maxout(0));
        try (Maxout maxout = new Maxout(4); LocalResponseNorm lrn = new LocalResponseNorm(5)) {
            IllegalArgumentException uneven = assertThrows(IllegalArgumentException.class,
                    () -> maxout.setup(onednn, Shape.of(2, 6, 3, 3)));
            assertTrue(uneven.getMessage().contains("Maxout(pieces=4)") && uneven.getMessage().contains("[2, 6, 3, 3]"),
                    uneven.getMessage());
            IllegalArgumentException flat = assertThrows(IllegalArgumentException.class,
                    () -> lrn.setup(onednn, Shape.of(2, 6)));
            assertTrue(flat.getMessage().contains("LocalResponseNorm(5"), flat.getMessage());
        }
    }

    @Test
    void kernelFamilyValidatesBeforeComputing() {
        try (Tensor x = onednn.allocate(Shape.of(2, 6, 3, 3)); Tensor y = onednn.allocate(Shape.of(2, 2, 3, 3));
             Tensor wrong = onednn.allocate(Shape.of(2, 4, 3, 3))) {
            assertThrows(IllegalArgumentException.class, () -> onednn.activations().maxoutForward(4, x, y));
            assertThrows(IllegalArgumentException.class, () -> onednn.activations().maxoutForward(3, x, wrong));
            assertThrows(IllegalArgumentException.class,
                    () -> onednn.activations().localResponseNormForward(0, 1e-4f, 0.75f, 1f, x, x));
            assertThrows(IllegalArgumentException.class,
                    () -> onednn.activations().localResponseNormBackward(3, 1e-4f, 0.75f, 1f, x, x, x));
            assertThrows(IllegalArgumentException.class, () -> onednn.activations().adaptiveAvgPoolForward(x, wrong));
            assertThrows(IllegalArgumentException.class, () -> onednn.activations()
                    .backward(dev.isthmus.device.Activation.BINARY_STEP, 0f, x, x, x, wrong));
        }
    }

    @Test
    void layersTrainInsideASequential() {
        try (Sequential model = new Sequential(new Conv2d(2, 6, 3, 1, 1, true), new LocalResponseNorm(3, 0.5, 0.75, 1.0),
                new Maxout(2), new AdaptiveAvgPool2d(3), new Flatten(), new Linear(27, 2))) {
            model.setup(onednn, Shape.of(2, 2, 7, 7));
            assertEquals(Shape.of(2, 2), model.outputShape());
        }
    }
}
