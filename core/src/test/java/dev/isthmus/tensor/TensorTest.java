package dev.isthmus.tensor;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {

    @Test
    void elementwiseKernelsComputeWhatTheySay() {
        try (Device device = new CpuDevice(2);
             Tensor a = device.fromArray(Shape.of(2, 2), 1, 2, 3, 4);
             Tensor b = device.fromArray(Shape.of(2, 2), 10, 20, 30, 40);
             Tensor out = device.allocate(Shape.of(2, 2))) {
            device.elementwise().add(a, b, out);
            assertArrayEquals(new float[] {11, 22, 33, 44}, out.toFloatArray());
            device.elementwise().mul(a, b, out);
            assertArrayEquals(new float[] {10, 40, 90, 160}, out.toFloatArray());
            device.blas().axpy(2f, a, b);
            assertArrayEquals(new float[] {12, 24, 36, 48}, b.toFloatArray());
            device.blas().scale(b, 0.5f);
            assertArrayEquals(new float[] {6, 12, 18, 24}, b.toFloatArray());
            device.elementwise().fill(out, 7f);
            assertArrayEquals(new float[] {7, 7, 7, 7}, out.toFloatArray());
            device.copy(a, out);
            assertArrayEquals(new float[] {1, 2, 3, 4}, out.toFloatArray());
        }
    }

    @Test
    void largeElementwiseLoopsSplitAcrossThreadsGiveTheSameResult() {
        int count = 1_000_003;
        float[] left = new float[count];
        float[] right = new float[count];
        for (int i = 0; i < count; i++) {
            left[i] = i % 97;
            right[i] = (i % 13) - 6;
        }
        try (Device device = new CpuDevice(2);
             Tensor a = device.fromArray(Shape.of(count), left);
             Tensor b = device.fromArray(Shape.of(count), right);
             Tensor out = device.allocate(Shape.of(count))) {
            device.elementwise().mul(a, b, out);
            float[] product = out.toFloatArray();
            for (int i = 0; i < count; i++) {
                assertEquals(left[i] * right[i], product[i], "element " + i);
            }
        }
    }

    @Test
    void aClosedTensorThrowsOnEveryUse() {
        try (Device device = new CpuDevice(1)) {
            Tensor tensor = device.allocate(Shape.of(3));
            Tensor view = tensor.reshape(Shape.of(1, 3));
            tensor.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, tensor::memory);
            assertTrue(closed.getMessage().contains("[3] F32 on cpu is closed"), closed.getMessage());
            assertThrows(IllegalStateException.class, tensor::toFloatArray);
            assertThrows(IllegalStateException.class, () -> device.elementwise().fill(tensor, 1f));
            IllegalStateException freed = assertThrows(IllegalStateException.class, view::memory);
            assertTrue(freed.getMessage().contains("freed"), freed.getMessage());
            tensor.close();
        }
    }

    @Test
    void aStaleSegmentCannotTouchFreedMemory() {
        try (Device device = new CpuDevice(1)) {
            Tensor tensor = device.allocate(Shape.of(4));
            MemorySegment stale = tensor.memory();
            tensor.close();
            assertThrows(IllegalStateException.class, () -> stale.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0));
        }
    }

    @Test
    void shapesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1));
        IllegalArgumentException huge = assertThrows(IllegalArgumentException.class, () -> Shape.of(1 << 20, 1 << 20));
        assertTrue(huge.getMessage().contains("more than"), huge.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(Integer.MAX_VALUE, Integer.MAX_VALUE, 4));
        assertEquals(0, Shape.of(0, 5).elementCount());
    }

    @Test
    void mismatchedShapesAndDevicesAreRefusedNamingTheOperation() {
        try (Device first = new CpuDevice(1);
             Device second = new CpuDevice(1);
             Tensor a = first.allocate(Shape.of(2, 3));
             Tensor b = first.allocate(Shape.of(3, 2));
             Tensor elsewhere = second.allocate(Shape.of(2, 3));
             Tensor labels = first.allocate(Shape.of(2, 3), DType.I32)) {
            IllegalArgumentException shapes = assertThrows(IllegalArgumentException.class, () -> first.elementwise().add(a, b, a));
            assertEquals("add: a [2, 3] and b [3, 2] must have the same shape", shapes.getMessage());
            IllegalArgumentException devices = assertThrows(IllegalArgumentException.class,
                    () -> first.elementwise().add(a, elsewhere, a));
            assertTrue(devices.getMessage().startsWith("add: b [2, 3] lives on cpu"), devices.getMessage());
            IllegalArgumentException dtypes = assertThrows(IllegalArgumentException.class, () -> first.elementwise().fill(labels, 1f));
            assertTrue(dtypes.getMessage().contains("is I32, expected F32"), dtypes.getMessage());
            assertThrows(IllegalArgumentException.class, () -> a.copyFrom(new float[5]));
            assertThrows(IllegalArgumentException.class, () -> a.reshape(Shape.of(7)));
            assertThrows(IllegalArgumentException.class, () -> a.slice(4, Shape.of(3)));
            assertThrows(IllegalArgumentException.class, () -> a.batchSlice(1, 2));
            assertThrows(IllegalArgumentException.class, () -> first.copyToHost(a, MemorySegment.ofArray(new float[2])));
        }
    }

    @Test
    void nativeBytesReturnToZeroAfterClose() {
        try (Device device = new CpuDevice(1)) {
            assertEquals(0, device.liveBytes());
            Tensor a = device.allocate(Shape.of(1000));
            Tensor b = device.allocate(Shape.of(10, 10), DType.I32);
            assertEquals(4400, device.liveBytes());
            Tensor view = a.slice(10, Shape.of(5));
            view.close();
            assertEquals(4400, device.liveBytes(), "closing a view frees nothing");
            a.close();
            b.close();
            a.close();
            assertEquals(0, device.liveBytes());
            assertEquals(4400, device.peakBytes());
        }
    }

    @Test
    void viewsSeeTheSameElements() {
        try (Device device = new CpuDevice(1);
             Tensor batch = device.fromArray(Shape.of(3, 2), 1, 2, 3, 4, 5, 6)) {
            Tensor second = batch.batchSlice(1, 2);
            assertArrayEquals(new float[] {3, 4, 5, 6}, second.toFloatArray());
            device.elementwise().fill(second, 0f);
            assertArrayEquals(new float[] {1, 2, 0, 0, 0, 0}, batch.toFloatArray());
            assertTrue(second.sharesMemoryWith(batch));
        }
    }
}
