package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.device.Devices;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Conv2d and Linear in BF16 and FP16 on the GPU (cuDNN tensor-core math, FP32 accumulation)
 * against the FP32 numbers of the fixtures/bf16 cases, within the documented BF16 tolerance
 * (relative 1e-2 in the 2-norm; FP16's 11-bit mantissa is finer still). cuDNN rounds the
 * output and the gradients to the operand type (as PyTorch's autocast on CUDA does), so the
 * autocast-exact CPU bound of MixedPrecisionLayerTest does not apply. Skipped with the reason
 * where no GPU is usable.
 */
@Tag("gpu")
class CudaMixedPrecisionTest {
    static List<Object[]> cases() {
        List<Object[]> cases = new ArrayList<>();
        for (String name : Fixtures.cases("bf16")) {
            cases.add(new Object[] {name, Precision.BF16});
            cases.add(new Object[] {name, Precision.FP16});
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void lowPrecisionStaysNearFp32(String name, Precision precision) {
        Devices.Choice choice = Devices.open("auto", 0);
        try (Device device = choice.device()) {
            Assumptions.assumeTrue(device.kind() == DeviceKind.CUDA, "no usable GPU: " + choice.reason());
            String unsupported = device.lowPrecisionSupport(precision.operandType());
            Assumptions.assumeTrue(unsupported == null, precision + " on this GPU: " + unsupported);
            try (SafeTensors fixture = Fixtures.open("bf16", name);
                 Layer layer = PyTorchLayerReferenceTest.build(Fixtures.config(fixture))) {
                layer.setPrecision(precision);
                Shape inputShape = Shape.of(fixture.entry("input").shape());
                layer.setup(device, inputShape);
                for (Parameter parameter : layer.parameters()) {
                    parameter.value().copyFrom(fixture.floats("param." + parameter.name()));
                    device.elementwise().fill(parameter.grad(), 0f);
                }
                try (Tensor input = device.fromArray(inputShape, fixture.floats("input"));
                     Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                    MixedPrecisionLayerTest.assertNear(name + " output", fixture.floats("output_fp32"),
                            layer.forward(input, true).toFloatArray());
                    MixedPrecisionLayerTest.assertNear(name + " input gradient", fixture.floats("grad_input_fp32"),
                            layer.backward(gradOutput).toFloatArray());
                    for (Parameter parameter : layer.parameters()) {
                        assertEquals(DType.F32, parameter.grad().dtype());
                        MixedPrecisionLayerTest.assertNear(name + " " + parameter.name() + " gradient",
                                fixture.floats("grad_fp32." + parameter.name()), parameter.grad().toFloatArray());
                    }
                }
            }
        }
    }
}
