package dev.isthmus.nn;

import dev.isthmus.device.Device;
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

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static dev.isthmus.testing.Fixtures.integer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Backward after an eval-mode forward, as PyTorch allows it: batch norm frozen on its running
 * statistics (affine gradients still computed), dropout the identity, and dL/dinput of a whole
 * model (a saliency map). Checked by finite differences and against PyTorch (fixtures/eval, from
 * make_fixtures_finetune.py).
 */
class EvalModeBackwardTest {
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static Stream<Arguments> layers() {
        return Stream.of(
                arguments("BatchNorm2d", (Supplier<Layer>) () -> new BatchNorm2d(3), Shape.of(4, 3, 3, 3)),
                arguments("BatchNorm2d no affine", (Supplier<Layer>) () -> new BatchNorm2d(2, 1e-3f, 0.2f, false),
                        Shape.of(2, 2, 4, 4)),
                arguments("BatchNorm1d [N,C]", (Supplier<Layer>) () -> new BatchNorm1d(4), Shape.of(6, 4)),
                arguments("BatchNorm1d [N,C,L]", (Supplier<Layer>) () -> new BatchNorm1d(3), Shape.of(3, 3, 5)),
                arguments("Dropout", (Supplier<Layer>) () -> new Dropout(0.4f), Shape.of(3, 7)),
                arguments("conv-bn-relu-dropout-linear", (Supplier<Layer>) () -> new Sequential(
                        new Conv2d(2, 3, 3, 1, 1, true), new BatchNorm2d(3), new Tanh(), new Dropout(0.5f),
                        new Flatten(), new Linear(3 * 4 * 4, 5)), Shape.of(2, 2, 4, 4)));
    }

    /** Running statistics away from 0 and 1, so that a backward that ignored them would fail. */
    private static void randomRunningStatistics(Layer layer, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (NamedTensor buffer : layer.buffers()) {
            float[] values = new float[Math.toIntExact(buffer.tensor().elementCount())];
            boolean variance = buffer.name().endsWith("running_var");
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (variance ? 0.3 + random.nextDouble() * 2 : random.nextDouble() - 0.5);
            }
            buffer.tensor().copyFrom(values);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void evalGradientsMatchFiniteDifferences(String name, Supplier<Layer> factory, Shape inputShape) {
        for (long seed = 1; seed <= 2; seed++) {
            try (Layer layer = factory.get()) {
                layer.setPropagateDown(true);
                layer.setup(device, inputShape);
                layer.resetParameters(new SplittableRandom(seed));
                randomRunningStatistics(layer, seed + 100);
                try (Tensor input = device.fromArray(inputShape, TestData.uniform((int) inputShape.elementCount(), 1.0, seed))) {
                    GradientChecker.Report report = new GradientChecker().inEvalMode().check(layer, input, seed * 31);
                    assertTrue(report.passed(), name + " seed " + seed + ": " + report);
                    assertTrue(report.probes() > 0, name + ": nothing was probed");
                }
            }
        }
    }

    @Test
    void evalBackwardLeavesTheRunningStatisticsAndCountersAlone() {
        try (BatchNorm2d norm = new BatchNorm2d(3)) {
            Shape shape = Shape.of(2, 3, 4, 4);
            norm.setup(device, shape);
            norm.resetParameters(new SplittableRandom(3));
            randomRunningStatistics(norm, 5);
            float[] mean = norm.buffers().get(0).tensor().toFloatArray();
            float[] variance = norm.buffers().get(1).tensor().toFloatArray();
            try (Tensor x = device.fromArray(shape, TestData.uniform(96, 1.0, 1));
                 Tensor dy = device.fromArray(shape, TestData.uniform(96, 1.0, 2))) {
                norm.forward(x, false);
                norm.backward(dy);
            }
            assertArrayEquals(mean, norm.buffers().get(0).tensor().toFloatArray());
            assertArrayEquals(variance, norm.buffers().get(1).tensor().toFloatArray());
            assertEquals(0, norm.batchesTracked());
        }
    }

    static List<String> layerFixtures() {
        return Fixtures.cases("eval").stream().filter(name -> !name.startsWith("network")).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layerFixtures")
    void layersMatchPyTorch(String name) {
        try (SafeTensors fixture = Fixtures.open("eval", name)) {
            Map<String, Object> config = Fixtures.config(fixture);
            Layer built = switch ((String) config.get("layer")) {
                case "BatchNorm2d" -> new BatchNorm2d(integer(config, "num_features"), 1e-5f, 0.1f, (Boolean) config.get("affine"));
                case "BatchNorm1d" -> new BatchNorm1d(integer(config, "num_features"), 1e-5f, 0.1f, (Boolean) config.get("affine"));
                case "Dropout" -> new Dropout(Fixtures.decimal(config, "p"));
                default -> throw new AssertionError("unknown layer in fixture " + name);
            };
            try (Layer layer = built) {
                layer.setPropagateDown(true);
                Shape shape = Shape.of(fixture.entry("input").shape());
                layer.setup(device, shape);
                layer.resetParameters(new SplittableRandom(1));
                checkAgainst(fixture, name, layer.parameters(), layer.buffers());
                try (Tensor input = device.fromArray(shape, fixture.floats("input"));
                     Tensor dy = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                    assertClose(name + " output", fixture.floats("output"), layer.forward(input, false).toFloatArray(), RTOL, ATOL);
                    Tensor dx = layer.backward(dy);
                    assertClose(name + " input gradient", fixture.floats("grad_input"), dx.toFloatArray(), RTOL, ATOL);
                    compareGradients(fixture, name, layer.parameters());
                }
            }
        }
    }

    /** Loads a fixture's parameters and buffers by name and zeroes the gradients. */
    private static void checkAgainst(SafeTensors fixture, String name, List<Parameter> parameters, List<NamedTensor> buffers) {
        for (Parameter parameter : parameters) {
            parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
            device.elementwise().fill(parameter.grad(), 0f);
        }
        for (NamedTensor buffer : buffers) {
            assertTrue(fixture.contains("buffer." + buffer.name()), name + ": no buffer." + buffer.name());
            buffer.tensor().copyFrom(fixture.floats("buffer." + buffer.name()));
        }
    }

    private static void compareGradients(SafeTensors fixture, String name, List<Parameter> parameters) {
        for (Parameter parameter : parameters) {
            assertClose(name + " " + parameter.name() + " gradient", fixture.floats("grad." + parameter.name()),
                    parameter.grad().toFloatArray(), RTOL, ATOL);
        }
    }

    @Test
    void saliencyOfAModelInEvalModeMatchesPyTorch() {
        String name = "network_eval_saliency";
        try (SafeTensors fixture = Fixtures.open("eval", name);
             Model model = new Model("saliency", new Sequential(new Conv2d(1, 3, 3, 1, 1, true), new BatchNorm2d(3),
                     new ReLU(), new Dropout(0.5f), new Flatten(), new Linear(3 * 4 * 4, 5)), Shape.of(1, 4, 4))) {
            model.computeInputGradient(true).build(device, 2, 0);
            checkAgainst(fixture, name, model.parameters(), model.buffers());
            Shape shape = model.batchShape(2);
            try (Tensor input = device.fromArray(shape, fixture.floats("input"));
                 Tensor dy = device.fromArray(Shape.of(2, 5), fixture.floats("grad_output"))) {
                assertClose(name + " output", fixture.floats("output"), model.forward(input, false).toFloatArray(), RTOL, ATOL);
                Tensor saliency = model.backward(dy);
                assertNotNull(saliency, "computeInputGradient(true) gives dL/dinput");
                assertEquals(shape, saliency.shape());
                assertClose(name + " input gradient", fixture.floats("grad_input"), saliency.toFloatArray(), RTOL, ATOL);
                compareGradients(fixture, name, model.parameters());
            }
        }
    }

    @Test
    void aModelWithoutInputGradientsReturnsNone() {
        try (Model model = new Model("plain", new Sequential(new Flatten(), new Linear(4, 2)), Shape.of(4))) {
            model.build(device, 3, 1);
            try (Tensor x = device.fromArray(model.batchShape(3), TestData.uniform(12, 1.0, 4));
                 Tensor dy = device.fromArray(Shape.of(3, 2), TestData.uniform(6, 1.0, 5))) {
                model.forward(x, false);
                assertEquals(null, model.backward(dy));
            }
            assertTrue(model.parameters().get(0).grad().toFloatArray()[0] != 0f, "eval backward still fills dW");
        }
    }
}
