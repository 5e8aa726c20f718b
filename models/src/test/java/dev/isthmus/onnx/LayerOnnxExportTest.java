package dev.isthmus.onnx;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.nn.AvgPool2d;
import dev.isthmus.nn.BatchNorm1d;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.ELU;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.GELU;
import dev.isthmus.nn.AdaptiveAvgPool2d;
import dev.isthmus.nn.GlobalAvgPool2d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.LeakyReLU;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.LogSoftmax;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Residual;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Sigmoid;
import dev.isthmus.nn.Softmax;
import dev.isthmus.nn.Tanh;
import dev.isthmus.onnx.proto.Onnx.ModelProto;
import dev.isthmus.onnx.proto.Onnx.NodeProto;
import dev.isthmus.onnx.proto.Onnx.TensorProto;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every layer of dev.isthmus.nn, in small networks, exported and run by ONNX Runtime against Isthmus. */
class LayerOnnxExportTest {
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
                new Network("conv geometry: rectangular kernel, stride, padding, dilation, groups, no bias", Shape.of(4, 13, 11),
                        () -> new Sequential()
                                .add("a", Conv2d.of(4, 6, 3, 2).stride(2, 1).padding(1, 2).dilation(2, 1))
                                .add("b", Conv2d.of(6, 6, 3).groups(3).bias(false).padding(1))
                                .add("flatten", new Flatten()).add("fc", new Linear(6 * 6 * 14, 5))),
                new Network("max pooling with padding, average pooling counting and not counting padding", Shape.of(3, 14, 14),
                        () -> new Sequential()
                                .add("max", MaxPool2d.of(3).stride(2).padding(1))
                                .add("avg_in", AvgPool2d.of(3).stride(1).padding(1))
                                .add("avg_ex", AvgPool2d.of(3).stride(2).padding(1).countIncludePad(false))
                                .add("avg", new AvgPool2d(2))
                                .add("gap", new GlobalAvgPool2d()).add("flatten", new Flatten())),
                new Network("activations", Shape.of(40),
                        () -> new Sequential()
                                .add("fc1", new Linear(40, 30)).add("relu", new ReLU())
                                .add("fc2", new Linear(30, 30)).add("leaky", new LeakyReLU(0.2f))
                                .add("fc3", new Linear(30, 30)).add("elu", new ELU(0.7f))
                                .add("fc4", new Linear(30, 30)).add("sigmoid", new Sigmoid())
                                .add("fc5", new Linear(30, 30)).add("tanh", new Tanh())
                                .add("fc6", new Linear(30, 30)).add("gelu", new GELU())
                                .add("fc7", new Linear(30, 8, false)).add("softmax", new Softmax())),
                new Network("batch norm 1d on [N, C] and [N, C, L], not affine, eps, dropout, log-softmax", Shape.of(6, 9),
                        () -> new Sequential()
                                .add("bn_seq", new BatchNorm1d(6, 1e-3f, 0.1f, true))
                                .add("flatten", new Flatten())
                                .add("drop1", new Dropout(0.5f))
                                .add("fc", new Linear(54, 20))
                                .add("bn_plain", new BatchNorm1d(20, 1e-5f, 0.3f, false))
                                .add("drop2", new Dropout(0.2f))
                                .add("out", new Linear(20, 7)).add("log_softmax", new LogSoftmax())),
                new Network("residual blocks: identity without the final relu, projection, spatial softmax", Shape.of(4, 8, 8),
                        () -> new Sequential()
                                .add("block1", new Residual(new Sequential().add("conv", Conv2d.of(4, 4, 3).padding(1))
                                        .add("bn", new BatchNorm2d(4)), null, false))
                                .add("block2", new Residual(new Sequential().add("conv", Conv2d.of(4, 6, 3).padding(1).stride(2))
                                        .add("bn", new BatchNorm2d(6, 1e-4f, 0.1f, false)).add("relu", new ReLU()),
                                        new Sequential(Conv2d.of(4, 6, 1).stride(2).bias(false), new BatchNorm2d(6)), true))
                                .add("softmax", new Softmax())),
                new Network("adaptive average pooling to (4, 3)", Shape.of(2, 12, 9),
                        () -> new Sequential()
                                .add("adaptive", new AdaptiveAvgPool2d(4, 3)).add("flatten", new Flatten())));
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
    void initializersKeepTheStateDictNamesAndDropoutWritesNothing() throws Exception {
        try (Model model = new Model("test", networks().toList().get(3).layers().get(), Shape.of(6, 9))) {
            model.build(device, 2, 0);
            ModelProto proto = OnnxExport.toProto(model);
            Set<String> initializers = proto.getGraph().getInitializerList().stream().map(TensorProto::getName)
                    .collect(Collectors.toSet());
            assertEquals(Set.of("bn_seq.weight", "bn_seq.bias", "bn_seq.running_mean", "bn_seq.running_var",
                    "fc.weight", "fc.bias", "bn_plain.weight", "bn_plain.bias", "bn_plain.running_mean",
                    "bn_plain.running_var", "out.weight", "out.bias"), initializers);
            List<String> ops = proto.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
            assertEquals(List.of("BatchNormalization", "Flatten", "Gemm", "BatchNormalization", "Gemm", "LogSoftmax"), ops);
            assertEquals("Linear(54, 20)", proto.getGraph().getNode(2).getDocString());
            assertEquals("fc", proto.getGraph().getNode(2).getName());
            assertEquals(OnnxExport.OPSET, proto.getOpsetImport(0).getVersion());
            assertEquals("batch", proto.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam());
        }
    }

    @Test
    void theFileParsesBackToTheSameModel() throws Exception {
        Path file = folder.resolve("parsed.onnx");
        try (Model model = new Model("test", networks().toList().get(4).layers().get(), Shape.of(4, 8, 8))) {
            model.build(device, 1, 0);
            OnnxExport.write(model, file);
            try (InputStream in = Files.newInputStream(file)) {
                assertEquals(OnnxExport.toProto(model), ModelProto.parseFrom(in));
            }
            try (var files = Files.list(folder)) {
                assertEquals(1, files.count(), "no temporary file left behind");
            }
        }
    }

    /** A layer nobody wrote an exporter for. */
    static class Unexportable extends Layer {
        @Override
        public String describe() {
            return "Unexportable()";
        }

        @Override
        protected Shape outputShapeFor(Shape input) {
            return input;
        }

        @Override
        protected void allocateBuffers(Device device, Shape input, Shape output) {
        }

        @Override
        protected void releaseBuffers() {
        }

        @Override
        protected Tensor doForward(Tensor x, boolean training) {
            return x;
        }

        @Override
        protected Tensor doBackward(Tensor gradOutput) {
            return gradOutput;
        }
    }

    @Test
    void aLayerWithoutAnExporterIsAnErrorNamingItAndItsPath() {
        Sequential inner = new Sequential().add("conv", Conv2d.of(2, 2, 1)).add("mystery", new Unexportable());
        try (Model model = new Model("test", new Sequential().add("features", inner).add("gap", new GlobalAvgPool2d()),
                Shape.of(2, 4, 4))) {
            model.build(device, 1, 0);
            UnsupportedOperationException failure = assertThrows(UnsupportedOperationException.class,
                    () -> OnnxExport.toProto(model));
            assertTrue(failure.getMessage().contains("Unexportable() at 'features.mystery'"), failure.getMessage());
        }
    }

    /** A layer that brings its exporter (a class of its own, so that the test above still finds none for its parent). */
    static final class Exportable extends Unexportable {
    }

    @Test
    void aRegisteredExporterIsUsedForANewLayer() {
        LayerExporters.register(Exportable.class, (layer, input, graph) -> graph.node("Identity", List.of(input)));
        try (Model model = new Model("test", new Sequential().add("features", new Exportable()).add("gap", new GlobalAvgPool2d()),
                Shape.of(2, 4, 4))) {
            model.build(device, 1, 0);
            List<String> ops = OnnxExport.toProto(model).getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
            assertEquals(List.of("Identity", "GlobalAveragePool"), ops);
        }
    }

    @Test
    void anUnbuiltModelIsRefused() {
        try (Model model = new Model("test", new Sequential().add("gap", new GlobalAvgPool2d()), Shape.of(2, 4, 4))) {
            IllegalStateException failure = assertThrows(IllegalStateException.class, () -> OnnxExport.toProto(model));
            assertTrue(failure.getMessage().contains("build the model first"), failure.getMessage());
            assertFalse(failure.getMessage().isBlank());
        }
    }
}
