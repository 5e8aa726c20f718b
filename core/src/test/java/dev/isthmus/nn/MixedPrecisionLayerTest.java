package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layers that compute in BF16 under the mixed-precision policy (Conv2d, Linear), against
 * PyTorch (fixtures/bf16, from make_fixtures_bf16.py): forward and both backward passes must equal
 * autocast's computation (BF16-rounded operands, F32 accumulation) to F32 accumulation error, and
 * stay within the documented BF16 tolerance of the plain F32 result: a relative error, in the
 * 2-norm over the tensor, of at most 1e-2 (BF16 keeps 8 significant bits: one rounding is at most
 * 2^-9 ≈ 2e-3 relative, and a dot product of rounded operands stays near that).
 */
class MixedPrecisionLayerTest {
    /** Against autocast's own computation: only the order of F32 accumulation differs. */
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-4;
    /** The documented BF16-vs-FP32 bound, relative in the 2-norm. */
    static final double BF16_RELATIVE = 1e-2;
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
        return Fixtures.cases("bf16");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bf16MatchesAutocastAndStaysNearFp32(String name) {
        String unsupported = device.lowPrecisionSupport(DType.BF16);
        Assumptions.assumeTrue(unsupported == null, "BF16 is not offered on this CPU: " + unsupported);
        try (SafeTensors fixture = Fixtures.open("bf16", name);
             Layer layer = PyTorchLayerReferenceTest.build(Fixtures.config(fixture))) {
            layer.setPrecision(Precision.BF16);
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            for (Parameter parameter : layer.parameters()) {
                parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
                device.elementwise().fill(parameter.grad(), 0f);
            }
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"));
                 Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                float[] output = layer.forward(input, true).toFloatArray();
                assertClose(name + " output", fixture.floats("output"), output, RTOL, ATOL);
                assertNear(name + " output", fixture.floats("output_fp32"), output);
                float[] gradInput = layer.backward(gradOutput).toFloatArray();
                assertClose(name + " input gradient", fixture.floats("grad_input"), gradInput, RTOL, ATOL);
                assertNear(name + " input gradient", fixture.floats("grad_input_fp32"), gradInput);
                for (Parameter parameter : layer.parameters()) {
                    assertTrue(parameter.value().dtype() == DType.F32 && parameter.grad().dtype() == DType.F32,
                            "master weights and gradients stay F32");
                    float[] grad = parameter.grad().toFloatArray();
                    assertClose(name + " " + parameter.name() + " gradient", fixture.floats("grad." + parameter.name()),
                            grad, RTOL, ATOL);
                    assertNear(name + " " + parameter.name() + " gradient", fixture.floats("grad_fp32." + parameter.name()), grad);
                }
            }
        }
    }

    /** ‖actual − fp32‖₂ ≤ BF16_RELATIVE · ‖fp32‖₂, and the BF16 result is not the F32 one (it was rounded). */
    static void assertNear(String what, float[] fp32, float[] actual) {
        double error = relativeError(fp32, actual);
        assertTrue(error <= BF16_RELATIVE, what + ": BF16 is " + error + " from FP32 (relative, 2-norm), over " + BF16_RELATIVE);
    }

    static double relativeError(float[] expected, float[] actual) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += Math.pow((double) actual[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        return Math.sqrt(difference / Math.max(norm, 1e-30));
    }
}
