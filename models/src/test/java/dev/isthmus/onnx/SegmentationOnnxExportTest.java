package dev.isthmus.onnx;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.models.UNet;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Concat;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.ConvTranspose2d;
import dev.isthmus.nn.Identity;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
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

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ConvTranspose2d, Concat, Identity and UNet exported and run by ONNX Runtime against Isthmus (as LayerOnnxExportTest). */
class SegmentationOnnxExportTest {
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
                new Network("transposed convolutions: stride, padding, output padding, dilation, groups, no bias",
                        Shape.of(4, 5, 6), () -> new Sequential()
                                .add("up", new ConvTranspose2d(4, 6, 3, 2, 1, 1, 1, 2, true))
                                .add("wide", new ConvTranspose2d(6, 3, 3, 1, 0, 0, 2, 1, false))
                                .add("rect", ConvTranspose2d.of(3, 2, 1).kernel(3, 2).stride(2, 1).padding(1, 0)
                                        .outputPadding(1, 0))),
                new Network("concat of a conv, the identity, a named and an unnamed sequential", Shape.of(3, 6, 6),
                        () -> new Sequential().add("stem", Conv2d.of(3, 4, 1)).add("block", new Concat()
                                .add("branch1x1", Conv2d.of(4, 2, 1)).add("skip", new Identity())
                                .add("", new Sequential().add("branch3x3_1", Conv2d.of(4, 2, 1)).add("relu", new ReLU())
                                        .add("branch3x3_2", Conv2d.of(2, 3, 3).padding(1)))
                                .add("branch_tanh", new Tanh()))),
                new Network("U-Net, depth 2, with batch norm", Shape.of(2, 8, 12), () -> new UNet(2, 3, 2, 4, true)));
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
    void concatKeepsTheBranchNamesAndWritesOneConcatNode() {
        try (Model model = new Model("test", networks().toList().get(1).layers().get(), Shape.of(3, 6, 6))) {
            model.build(device, 2, 0);
            ModelProto proto = OnnxExport.toProto(model);
            Set<String> initializers = proto.getGraph().getInitializerList().stream().map(TensorProto::getName)
                    .collect(Collectors.toSet());
            assertEquals(Set.of("stem.weight", "stem.bias", "block.branch1x1.weight", "block.branch1x1.bias",
                    "block.branch3x3_1.weight", "block.branch3x3_1.bias", "block.branch3x3_2.weight",
                    "block.branch3x3_2.bias"), initializers);
            List<String> ops = proto.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
            assertEquals(List.of("Conv", "Conv", "Identity", "Conv", "Relu", "Conv", "Tanh", "Concat"), ops);
            assertTrue(proto.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Concat")
                    && n.getAttribute(0).getI() == 1), "Concat on axis 1");
        }
    }
}
