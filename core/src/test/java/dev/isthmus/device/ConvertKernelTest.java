package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.HalfFloats;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * elementwise().convert on the CPU (oneDNN's reorder, or the Java loop under the OpenBLAS
 * backend, whichever this run's device has) rounds as PyTorch's {@code .to(torch.bfloat16)} and
 * {@code .half()} do: to nearest, ties to even, overflow to infinity, NaN kept; back to F32 is
 * exact; misuse is refused before any native call. One measured difference, allowed here:
 * oneDNN's reorder flushes F32 subnormals (below 1.2e-38) to zero and does not keep the sign of a
 * result that rounds to zero, where PyTorch keeps BF16 subnormals and -0; no activation or
 * gradient that matters lives there.
 */
class ConvertKernelTest {
    /** Values with known bfloat16 roundings (checked with torch 1.13: torch.tensor(v).bfloat16().float()). */
    private static final float[] VALUES = {1f, 1.00390625f, 1.01171875f, -2.5f, 3.0e38f, Float.MAX_VALUE,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-40f, 0f, -0f, 65504f, 70000f};
    private static final float[] BF16 = {1f, 1f, 1.015625f, -2.5f, 3.00405527047391e38f, Float.POSITIVE_INFINITY,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 9.183549615799121e-41f, 0f, -0f, 65536f, 70144f};

    private static float[] roundTrip(Device device, float[] values, DType low, Layout layout, Shape shape) {
        try (Tensor source = device.allocate(shape, DType.F32, layout);
             Tensor half = device.allocate(shape, low, layout);
             Tensor back = device.allocate(shape, DType.F32, layout)) {
            source.memory().copyFrom(java.lang.foreign.MemorySegment.ofArray(values));
            device.elementwise().convert(source, half);
            device.elementwise().convert(half, back);
            float[] result = new float[values.length];
            java.lang.foreign.MemorySegment.copy(back.memory(), ValueLayout.JAVA_FLOAT, 0, result, 0, values.length);
            return result;
        }
    }

    /** Equal, except that a subnormal input may flush to zero and a zero may lose its sign (oneDNN). */
    private static void assertConverted(float expected, float actual, float input, String type) {
        if (actual == 0f && (expected == 0f || Math.abs(input) < Float.MIN_NORMAL)) {
            return;
        }
        assertEquals(expected, actual, type + "(" + input + ")");
    }

    @Test
    void bf16RoundsToNearestEvenAsPyTorch() {
        try (CpuDevice device = new CpuDevice()) {
            float[] result = roundTrip(device, VALUES, DType.BF16, Layout.ROW_MAJOR, Shape.of(VALUES.length));
            for (int i = 0; i < VALUES.length; i++) {
                assertConverted(BF16[i], result[i], VALUES[i], "bf16");
                assertEquals(BF16[i], HalfFloats.fromBf16(HalfFloats.toBf16(VALUES[i])), "HalfFloats.toBf16(" + VALUES[i] + ")");
            }
            float[] nan = roundTrip(device, new float[] {Float.NaN}, DType.BF16, Layout.ROW_MAJOR, Shape.of(1));
            assertTrue(Float.isNaN(nan[0]), "NaN stays NaN");
        }
    }

    @Test
    void f16RoundsAsTheJdkAndManyValuesAgreeWithTheScalarRule() {
        try (CpuDevice device = new CpuDevice()) {
            SplittableRandom random = new SplittableRandom(2);
            float[] values = new float[4096];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 6)));
            }
            float[] f16 = roundTrip(device, values, DType.F16, Layout.ROW_MAJOR, Shape.of(values.length));
            float[] bf16 = roundTrip(device, values, DType.BF16, Layout.ROW_MAJOR, Shape.of(values.length));
            for (int i = 0; i < values.length; i++) {
                assertConverted(Float.float16ToFloat(Float.floatToFloat16(values[i])), f16[i], values[i], "f16");
                assertConverted(HalfFloats.fromBf16(HalfFloats.toBf16(values[i])), bf16[i], values[i], "bf16");
            }
        }
    }

    @Test
    void anF32SourceInAnotherLayoutIsBroughtToTheDestinationsLayout() {
        try (CpuDevice device = new CpuDevice()) {
            Shape shape = Shape.of(2, 3, 2, 2);
            Layout target = device.activationLayout(shape);
            float[] values = new float[24];
            for (int i = 0; i < values.length; i++) {
                values[i] = i + 0.5f;
            }
            try (Tensor rowMajor = device.fromArray(shape, values); Tensor low = device.allocate(shape, DType.BF16, target);
                 Tensor back = device.allocate(shape, DType.F32, target)) {
                device.elementwise().convert(rowMajor, low);
                device.elementwise().convert(low, back);
                float[] result = back.toFloatArray();
                for (int i = 0; i < values.length; i++) {
                    assertEquals(values[i], result[i], "element " + i + " (exact in BF16)");
                }
            }
        }
    }

    @Test
    void misuseIsRefusedNamingTheOperation() {
        try (CpuDevice device = new CpuDevice();
             Tensor f32 = device.allocate(Shape.of(4));
             Tensor other = device.allocate(Shape.of(4));
             Tensor bf16 = device.allocate(Shape.of(4), DType.BF16);
             Tensor shorter = device.allocate(Shape.of(3), DType.BF16);
             Tensor ints = device.allocate(Shape.of(4), DType.I32)) {
            ElementwiseKernels kernels = device.elementwise();
            for (Runnable misuse : new Runnable[] {() -> kernels.convert(f32, other), () -> kernels.convert(f32, shorter),
                () -> kernels.convert(ints, bf16), () -> kernels.convert(bf16, bf16), () -> kernels.convert(null, bf16),
                () -> kernels.convert(f32, f32.slice(0, Shape.of(4)))}) {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, misuse::run);
                assertTrue(refused.getMessage().startsWith("convert"), refused.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> kernels.mul(bf16, bf16, bf16),
                    "the F32 families refuse BF16 operands");
            if (device.carriesLowPrecision(DType.BF16)) {
                // A BF16 residual block's sum is the one exception (see LowPrecisionRunTest).
                kernels.add(bf16, bf16, bf16);
            } else {
                assertThrows(IllegalArgumentException.class, () -> kernels.add(bf16, bf16, bf16),
                        "without BF16 activations the sum refuses BF16 operands too");
            }
        }
    }
}
