package dev.isthmus.onnx;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Every zoo model, exported at batch 2 and run by ONNX Runtime at batch 3 (the batch is a named
 * dimension), gives Isthmus's eval-mode output within 1e-4 relative.
 */
class ZooOnnxExportTest {
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

    static Stream<String> models() {
        return Zoo.entries().stream().map(Zoo.Entry::name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void onnxRuntimeGivesIsthmussOutputAtAnotherBatchSize(String name) throws Exception {
        Path file = folder.resolve(name + ".onnx");
        try (Model model = Zoo.entry(name).create()) {
            model.build(device, 2, 11);
            OnnxRuntimeRunner.perturb(model, device, 2, 5);
            OnnxExport.write(model, file);
            OnnxRuntimeRunner.keep(file, name);
            Shape shape = model.batchShape(3);
            float[] input = TestData.uniform((int) shape.elementCount(), 1.0, 29);
            float[] expected;
            int[] outputSample;
            try (Tensor x = device.fromArray(shape, input)) {
                Tensor y = model.forward(x, false);
                expected = y.toFloatArray();
                int[] dims = y.shape().dims();
                outputSample = java.util.Arrays.copyOfRange(dims, 1, dims.length);
            }
            OnnxRuntimeRunner.assertClose(expected, OnnxRuntimeRunner.run(file, shape, input, outputSample), name);
        }
    }
}
