package dev.isthmus.device;

import dev.isthmus.device.cuda.CudaDevice;
import dev.isthmus.device.cuda.CudaDriver;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11 on a GPU: two devices used in turn from one thread each run in their own context, and
 * closing a device frees the memory of tensors and plans left open. Skipped, with the reason,
 * where no usable GPU is present (the logic each relies on is tested without one in device/cuda).
 */
@Tag("gpu")
class CudaDeviceLifecycleTest {
    @BeforeEach
    void requireGpu() {
        String why = CudaSupport.unavailableReason();
        Assumptions.assumeTrue(why == null, () -> "no usable GPU: " + why);
    }

    @Test
    void twoDevicesUsedInTurnFromOneThreadEachRunInTheirOwnContext() {
        // cuda:1 where there is one; otherwise two device objects on GPU 0.
        int second = CudaDriver.deviceCount() > 1 ? 1 : 0;
        try (CudaDevice first = new CudaDevice(0); CudaDevice other = new CudaDevice(second)) {
            Shape shape = Shape.of(1000);
            try (Tensor a = first.allocate(shape); Tensor b = other.allocate(shape)) {
                for (int round = 1; round <= 3; round++) {
                    first.elementwise().fill(a, round);
                    other.elementwise().fill(b, -round);
                    first.blas().scale(a, 2f);
                    other.blas().scale(b, 2f);
                    assertEquals(4.0 * round * round * 1000, first.reductions().sumOfSquares(a), 1e-6 * round * round * 1000);
                    assertEquals(4.0 * round * round * 1000, other.reductions().sumOfSquares(b), 1e-6 * round * round * 1000);
                }
            }
        }
    }

    @Test
    void closeFreesWhatTensorsAndPlansStillHoldAndClosingThemLaterDoesNothing() {
        CudaDevice device = new CudaDevice(0);
        Tensor left = device.fromArray(Shape.of(4), 1f, 2f, 3f, 4f);
        ConvolutionPlan plan = device.convolution(new ConvGeometry(64, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1));
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, left.toFloatArray());
        device.close();
        assertEquals(0, device.reservedBytes(), "every block went back to the driver");
        IllegalStateException freed = assertThrows(IllegalStateException.class, left::toFloatArray);
        assertTrue(freed.getMessage().contains("freed"), freed.getMessage());
        left.close();
        plan.close();
        assertEquals(0, device.reservedBytes(), "nothing came back to the closed allocator");
    }
}
