package dev.isthmus.device.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Copies between NCHW and NHWC: oneDNN's reorder (F32 in native memory) and the Java loop (heap
 * memory, I32, the OpenBLAS engine) must put every element where the other layout's index says.
 */
class CpuRelayoutTest {
    private static final Shape SHAPE = Shape.of(3, 5, 4, 7);

    @ParameterizedTest
    @EnumSource(CpuBackend.class)
    void channelsLastRoundTripsThroughNativeAndHeapHostMemory(CpuBackend backend) {
        assumeTrue(backend != CpuBackend.ONEDNN || DnnlRuntime.unavailableReason(false) == null,
                () -> "oneDNN is unavailable: " + DnnlRuntime.unavailableReason(false));
        float[] values = new float[Math.toIntExact(SHAPE.elementCount())];
        Random random = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat() - 0.5f;
        }
        try (CpuDevice cpu = new CpuDevice(2, backend); Arena arena = Arena.ofConfined();
             Tensor channelsLast = cpu.allocate(SHAPE, DType.F32, Layout.CHANNELS_LAST);
             Tensor rowMajor = cpu.allocate(SHAPE, DType.F32, Layout.ROW_MAJOR)) {
            MemorySegment nativeHost = arena.allocate((long) values.length * Float.BYTES);
            MemorySegment.copy(values, 0, nativeHost, ValueLayout.JAVA_FLOAT, 0, values.length);
            cpu.copyFromHost(nativeHost, channelsLast);
            assertNhwc(values, channelsLast.memory());

            cpu.copy(channelsLast, rowMajor);
            assertArrayEquals(values, rowMajor.memory().toArray(ValueLayout.JAVA_FLOAT));

            float[] heapBack = new float[values.length];
            cpu.copyToHost(channelsLast, MemorySegment.ofArray(heapBack));
            assertArrayEquals(values, heapBack);

            cpu.copyFromHost(MemorySegment.ofArray(values), channelsLast);
            assertNhwc(values, channelsLast.memory());
            MemorySegment nativeBack = arena.allocate((long) values.length * Float.BYTES);
            cpu.copyToHost(channelsLast, nativeBack);
            assertArrayEquals(values, nativeBack.toArray(ValueLayout.JAVA_FLOAT));

            cpu.copy(rowMajor, channelsLast);
            assertNhwc(values, channelsLast.memory());
        }
    }

    /** {@code memory} holds {@code nchw}'s elements in NHWC order. */
    private static void assertNhwc(float[] nchw, MemorySegment memory) {
        int n = SHAPE.dim(0), c = SHAPE.dim(1), h = SHAPE.dim(2), w = SHAPE.dim(3);
        for (int in = 0; in < n; in++) {
            for (int ic = 0; ic < c; ic++) {
                for (int ih = 0; ih < h; ih++) {
                    for (int iw = 0; iw < w; iw++) {
                        float expected = nchw[((in * c + ic) * h + ih) * w + iw];
                        long at = ((long) (in * h + ih) * w + iw) * c + ic;
                        assertEquals(expected, memory.getAtIndex(ValueLayout.JAVA_FLOAT, at),
                                "n" + in + " c" + ic + " h" + ih + " w" + iw);
                    }
                }
            }
        }
    }
}
