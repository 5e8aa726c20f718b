package dev.isthmus.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.isthmus.device.Device;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs an exported file in ONNX Runtime and compares it with the Isthmus model it came from. */
public final class OnnxRuntimeRunner {
    private OnnxRuntimeRunner() {
    }

    /**
     * Gives batch norms non-trivial statistics and affine parameters (two training forwards move the
     * running statistics; γ and β drawn at random), so that eval mode is really exercised.
     */
    public static void perturb(Model model, Device device, int batch, long seed) {
        for (int step = 0; step < 2; step++) {
            Shape shape = model.batchShape(batch);
            try (Tensor x = device.fromArray(shape, TestData.uniform((int) shape.elementCount(), 1.5, seed + step))) {
                model.forward(x, true);
            }
        }
        long salt = seed;
        for (Parameter parameter : model.parameters()) {
            if (parameter.value().shape().rank() == 1) { // batch-norm weights and biases, layer biases
                float[] values = TestData.uniform((int) parameter.value().elementCount(), 0.3, ++salt);
                if (parameter.name().endsWith("weight")) {
                    for (int i = 0; i < values.length; i++) {
                        values[i] += 1f;
                    }
                }
                parameter.value().copyFrom(values);
            }
        }
    }

    /** ONNX Runtime's output for {@code input} of {@code shape} from the file, after checking its declared input and output. */
    public static float[] run(Path file, Shape shape, float[] input, int[] outputSampleDims) throws OrtException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = environment.createSession(file.toString(), options)) {
                NodeInfo in = session.getInputInfo().get(OnnxExport.INPUT);
                NodeInfo out = session.getOutputInfo().get(OnnxExport.OUTPUT);
                long[] expectedIn = dims(shape.dims());
                expectedIn[0] = -1; // the named batch dimension
                assertArrayEquals(expectedIn, ((TensorInfo) in.getInfo()).getShape(), "declared input shape");
                long[] expectedOut = new long[outputSampleDims.length + 1];
                expectedOut[0] = -1;
                for (int i = 0; i < outputSampleDims.length; i++) {
                    expectedOut[i + 1] = outputSampleDims[i];
                }
                assertArrayEquals(expectedOut, ((TensorInfo) out.getInfo()).getShape(), "declared output shape");
                try (OnnxTensor x = OnnxTensor.createTensor(environment, FloatBuffer.wrap(input), dims(shape.dims()));
                     OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, x))) {
                    OnnxTensor y = (OnnxTensor) result.get(0);
                    assertEquals(shape.dim(0), y.getInfo().getShape()[0], "output batch");
                    FloatBuffer values = y.getFloatBuffer();
                    float[] array = new float[values.remaining()];
                    values.get(array);
                    return array;
                }
            }
        }
    }

    public static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": output size");
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.abs(expected[i])),
                    what + " output " + i + ": Isthmus " + expected[i] + ", ONNX Runtime " + actual[i]);
        }
    }

    /**
     * Copies an exported file into the folder named by -Disthmus.onnx.keep (for ci/onnx-check,
     * ONNX's own checker); does nothing without it.
     */
    public static void keep(Path file, String name) throws java.io.IOException {
        String folder = System.getProperty("isthmus.onnx.keep");
        if (folder != null) {
            java.nio.file.Files.createDirectories(Path.of(folder));
            java.nio.file.Files.copy(file, Path.of(folder, name.replaceAll("[^A-Za-z0-9._-]+", "_") + ".onnx"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static long[] dims(int[] dims) {
        long[] result = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            result[i] = dims[i];
        }
        return result;
    }
}
