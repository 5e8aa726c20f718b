package dev.isthmus.train;

import dev.isthmus.device.ReductionKernels;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.metric.DiceScore;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The device counts are folded into the host's longs before a batch could overflow them: with the
 * limit lowered to two batches, five batches fold twice and total exactly what one count of each gives.
 */
class PixelCountsTest {
    @Test
    void foldsBeforeTheDeviceCountsCouldOverflowAndTotalsExactly() {
        Shape shape = Shape.of(2, 3, 4, 4);
        try (CpuDevice device = new CpuDevice(1, CpuBackend.OPENBLAS);
             PixelCounts folded = new PixelCounts(device, 3, 2 * 32);
             PixelCounts whole = new PixelCounts(device, 3)) {
            folded.reset();
            whole.reset();
            DiceScore reference = new DiceScore(3);
            for (int batch = 0; batch < 5; batch++) {
                float[] values = TestData.uniform((int) shape.elementCount(), 2.0, 40 + batch);
                int[] labels = TestData.labels(32, 3, 50 + batch);
                try (Tensor logits = device.fromArray(shape, values); Tensor target = device.fromInts(Shape.of(2, 4, 4), labels)) {
                    reference.update(logits, target);
                    folded.reserve(32);
                    device.reductions().countSegmentation(logits, target, -100, folded.tensor());
                    whole.reserve(32);
                    device.reductions().countSegmentation(logits, target, -100, whole.tensor());
                }
                if (batch == 2) {
                    // Two batches fit under the lowered limit; the third folded the first two.
                    assertEquals(64, folded.totals()[ReductionKernels.SEGMENTATION_COUNTED]);
                }
            }
            folded.fold();
            whole.fold();
            assertEquals(5 * 32, folded.totals()[ReductionKernels.SEGMENTATION_COUNTED]);
            for (int i = 0; i < whole.totals().length; i++) {
                assertEquals(whole.totals()[i], folded.totals()[i], "count " + i);
            }
            assertEquals(reference.mean(), folded.dice(), 1e-15);
        }
    }
}
