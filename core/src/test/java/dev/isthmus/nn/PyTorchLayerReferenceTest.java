package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;

import static dev.isthmus.testing.Fixtures.assertClose;
import static dev.isthmus.testing.Fixtures.decimal;
import static dev.isthmus.testing.Fixtures.integer;
import static dev.isthmus.testing.Fixtures.pair;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every layer against PyTorch's own numbers (fixtures/layers, from make_fixtures.py): the output,
 * the input gradient, every parameter gradient, and batch norm's running statistics.
 */
class PyTorchLayerReferenceTest {
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

    static List<String> cases() {
        return Fixtures.cases("layers");
    }

    @Test
    void everyLayerKindHasAFixture() {
        List<String> cases = cases();
        for (String kind : List.of("linear", "conv2d", "maxpool2d", "avgpool2d", "global_avgpool", "relu", "leaky_relu",
                "elu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax", "batchnorm2d", "batchnorm1d")) {
            assertTrue(cases.stream().anyMatch(c -> c.startsWith(kind)), "no fixture for " + kind);
        }
    }

    /** Builds the layer a fixture's config describes. */
    static Layer build(Map<String, Object> config) {
        String kind = (String) config.get("layer");
        return switch (kind) {
            case "Linear" -> new Linear(integer(config, "in_features"), integer(config, "out_features"),
                    (Boolean) config.get("bias"));
            case "Conv2d" -> {
                int[] kernel = pair(config, "kernel_size");
                int[] stride = pair(config, "stride");
                int[] padding = pair(config, "padding");
                int[] dilation = pair(config, "dilation");
                yield Conv2d.of(integer(config, "in_channels"), integer(config, "out_channels"), kernel[0], kernel[1])
                        .stride(stride[0], stride[1]).padding(padding[0], padding[1]).dilation(dilation[0], dilation[1])
                        .groups(integer(config, "groups")).bias((Boolean) config.get("bias"));
            }
            case "MaxPool2d" -> new MaxPool2d(pair(config, "kernel_size")[0], pair(config, "stride")[0], pair(config, "padding")[0]);
            case "AvgPool2d" -> new AvgPool2d(pair(config, "kernel_size")[0], pair(config, "stride")[0],
                    pair(config, "padding")[0], (Boolean) config.get("count_include_pad"));
            case "GlobalAvgPool2d" -> new GlobalAvgPool2d();
            case "ReLU" -> new ReLU();
            case "LeakyReLU" -> new LeakyReLU(decimal(config, "negative_slope"));
            case "ELU" -> new ELU(decimal(config, "alpha"));
            case "Sigmoid" -> new Sigmoid();
            case "Tanh" -> new Tanh();
            case "GELU" -> new GELU();
            case "Softmax" -> new Softmax();
            case "LogSoftmax" -> new LogSoftmax();
            case "BatchNorm2d" -> new BatchNorm2d(integer(config, "num_features"), decimal(config, "eps"),
                    decimal(config, "momentum"), (Boolean) config.get("affine"));
            case "BatchNorm1d" -> new BatchNorm1d(integer(config, "num_features"), decimal(config, "eps"),
                    decimal(config, "momentum"), (Boolean) config.get("affine"));
            default -> throw new AssertionError("fixture for an unknown layer " + kind);
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesPyTorch(String name) {
        try (SafeTensors fixture = Fixtures.open("layers", name); Layer layer = build(Fixtures.config(fixture))) {
            Map<String, Object> config = Fixtures.config(fixture);
            boolean training = (Boolean) config.get("training");
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            for (Parameter parameter : layer.parameters()) {
                parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
                device.elementwise().fill(parameter.grad(), 0f);
            }
            for (NamedTensor buffer : layer.buffers()) {
                if (fixture.contains("buffer." + buffer.name())) {
                    buffer.tensor().copyFrom(fixture.floats("buffer." + buffer.name()));
                }
            }
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"))) {
                Tensor output = layer.forward(input, training);
                assertClose(name + " output", fixture.floats("output"), output.toFloatArray(), RTOL, ATOL);
                for (NamedTensor buffer : layer.buffers()) {
                    if (fixture.contains("buffer_after." + buffer.name())) {
                        assertClose(name + " " + buffer.name(), fixture.floats("buffer_after." + buffer.name()),
                                buffer.tensor().toFloatArray(), RTOL, ATOL);
                    }
                }
                // Eval fixtures differentiate the eval-mode function (running statistics held constant).
                try (Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                    Tensor gradInput = layer.backward(gradOutput);
                    assertClose(name + " input gradient", fixture.floats("grad_input"), gradInput.toFloatArray(), RTOL, ATOL);
                    for (Parameter parameter : layer.parameters()) {
                        assertClose(name + " " + parameter.name() + " gradient", fixture.floats("grad." + parameter.name()),
                                parameter.grad().toFloatArray(), RTOL, ATOL);
                    }
                }
            }
        }
    }
}
