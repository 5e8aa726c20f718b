package dev.isthmus.onnx;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.nn.AdaptiveAvgPool2d;
import dev.isthmus.nn.BinaryStep;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.LocalResponseNorm;
import dev.isthmus.nn.Maxout;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Sequential;
import dev.isthmus.onnx.proto.Onnx.NodeProto;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * LocalResponseNorm (ONNX LRN for odd sizes, written out for even ones), Maxout, BinaryStep and
 * AdaptiveAvgPool2d with windows of varying size, in small networks, exported and run by ONNX Runtime
 * against Isthmus.
 */
class WindowLayerOnnxExportTest {
    private static CpuDevice device;

    @TempDir
    Path folder;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    record Network(String name, Shape sample, Supplier<Layer> layers) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Network> networks() {
        return Stream.of(
                new Network("local response norm, odd size (ONNX LRN) and even size (written out)", Shape.of(3, 6, 5),
                        () -> new Sequential()
                                .add("conv", Conv2d.of(3, 7, 3).padding(1))
                                .add("lrn5", new LocalResponseNorm(5, 0.5, 0.75, 2.0))
                                .add("lrn4", new LocalResponseNorm(4, 0.8, 0.6, 1.0))
                                .add("lrn2", new LocalResponseNorm(2, 1.0, 0.5, 1.5))
                                .add("flatten", new Flatten())),
                new Network("local response norm on [N, C, L], even size", Shape.of(6, 10),
                        () -> new Sequential().add("lrn", new LocalResponseNorm(4, 0.7, 0.75, 1.0)).add("flatten", new Flatten())),
                new Network("maxout over channels and over features", Shape.of(4, 5, 6),
                        () -> new Sequential()
                                .add("conv", Conv2d.of(4, 6, 3).padding(1))
                                .add("maxout", new Maxout(3))
                                .add("flatten", new Flatten())
                                .add("fc", new Linear(2 * 5 * 6, 12))
                                .add("maxout_fc", new Maxout(4))),
                new Network("binary step", Shape.of(20),
                        () -> new Sequential().add("fc", new Linear(20, 16)).add("step", new BinaryStep())),
                new Network("adaptive average pooling with varying windows: 7x5 to 3x2, 3x2 to 5x5", Shape.of(2, 7, 5),
                        () -> new Sequential()
                                .add("down", new AdaptiveAvgPool2d(3, 2))
                                .add("up", new AdaptiveAvgPool2d(5, 5))
                                .add("flatten", new Flatten())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void onnxRuntimeAgreesWithIsthmus(Network network) throws Exception {
        Path file = folder.resolve("network.onnx");
        try (Model model = new Model("test", network.layers().get(), network.sample())) {
            model.build(device, 4, 3);
            OnnxRuntimeRunner.perturb(model, device, 4, 17);
            OnnxExport.write(model, file);
            OnnxRuntimeRunner.keep(file, network.name());
            Shape shape = model.batchShape(5);
            float[] input = TestData.uniform((int) shape.elementCount(), 2.0, 31);
            float[] expected;
            int[] outputSample;
            try (Tensor x = device.fromArray(shape, input)) {
                Tensor y = model.forward(x, false);
                expected = y.toFloatArray();
                outputSample = java.util.Arrays.copyOfRange(y.shape().dims(), 1, y.shape().rank());
            }
            OnnxRuntimeRunner.assertClose(expected, OnnxRuntimeRunner.run(file, shape, input, outputSample), network.name());
        }
    }

    @Test
    void oddSizesBecomeOnnxLrnAndEvenSizesAConvOverTheWindow() {
        try (Model model = new Model("lrn", new Sequential().add("odd", new LocalResponseNorm(5))
                .add("even", new LocalResponseNorm(4)), Shape.of(6, 3, 3))) {
            model.build(device, 2, 0);
            List<String> ops = OnnxExport.toProto(model).getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
            assertEquals(List.of("LRN", "Mul", "Conv", "Mul", "Add", "Pow", "Div"), ops);
        }
    }
}
