package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.metric.DiceScore;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReductionKernels#countSegmentation} on hand-computed pixels (torch.argmax's ties and NaN,
 * ignored and out-of-range labels), and against {@link DiceScore} on random logits, in both layouts.
 */
class CountSegmentationTest {
    private static final float NAN = Float.NaN;
    private static CpuDevice device;

    @BeforeAll
    static void open() {
        device = new CpuDevice(1, CpuBackend.OPENBLAS);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /**
     * One image of 2x3 pixels, 3 classes; logits [1, 3, 2, 3] row-major. Per pixel, torch.argmax and
     * the label: (0) 1 vs 1 hit; (1) 0 (tie 0/2, first wins) vs 2 miss; (2) 2 (NaN ranks first) vs 2
     * hit; (3) 0 vs ignored; (4) 2 vs 0 miss; (5) 1 vs 7 (out of range: not counted).
     */
    @Test
    void countsPixelsAsTorchArgmaxPicksThemLeavingIgnoredAndInvalidLabelsOut() {
        float[] logits = {
            // class 0
            0f, 5f, 1f, 9f, 0f, 0f,
            // class 1
            3f, 1f, 2f, 0f, 1f, 4f,
            // class 2
            1f, 5f, NAN, 0f, 2f, 0f,
        };
        int[] labels = {1, 2, 2, -100, 0, 7};
        try (Tensor x = device.fromArray(Shape.of(1, 3, 2, 3), logits); Tensor y = device.fromInts(Shape.of(1, 2, 3), labels);
             Tensor counts = device.fromInts(Shape.of(11), 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) {
            device.reductions().countSegmentation(x, y, -100, counts);
            // correct, counted, intersection[3], predicted[3], labelled[3]
            int[] expected = {100 + 2, 4, 0, 1, 1, 1, 1, 2, 1, 1, 2};
            assertArrayEquals(expected, counts.toIntArray());
        }
    }

    @Test
    void matchesDiceScoreAndPixelAccuracyOnRandomLogitsInEitherLayout() {
        Shape shape = Shape.of(4, 3, 6, 5);
        float[] values = TestData.uniform((int) shape.elementCount(), 2.0, 5);
        int[] labels = TestData.labels(4 * 6 * 5, 3, 6);
        DiceScore reference = new DiceScore(3);
        int[] predicted = DiceScore.argmax(values, 4, 3);
        reference.update(predicted, labels);
        int hits = 0;
        for (int i = 0; i < labels.length; i++) {
            hits += predicted[i] == labels[i] ? 1 : 0;
        }
        for (boolean activation : new boolean[] {false, true}) {
            try (CpuDevice oneDnn = new CpuDevice(1, CpuBackend.ONEDNN);
                 Tensor x = activation ? oneDnn.allocateActivation(shape).copyFrom(values) : oneDnn.fromArray(shape, values);
                 Tensor y = oneDnn.fromInts(Shape.of(4, 6, 5), labels);
                 Tensor counts = oneDnn.allocate(Shape.of(ReductionKernels.segmentationCountsLength(3)), DType.I32)) {
                // oneDNN's CPU device keeps multi-channel activations channels-last: both index paths are checked.
                assertEquals(activation ? Layout.CHANNELS_LAST : Layout.ROW_MAJOR, x.layout());
                oneDnn.reductions().countSegmentation(x, y, -100, counts);
                int[] c = counts.toIntArray();
                assertEquals(hits, c[ReductionKernels.SEGMENTATION_CORRECT], "layout " + x.layout());
                assertEquals(labels.length, c[ReductionKernels.SEGMENTATION_COUNTED]);
                DiceScore fromCounts = new DiceScore(3);
                fromCounts.add(new long[] {c[2], c[3], c[4]}, new long[] {c[5], c[6], c[7]}, new long[] {c[8], c[9], c[10]});
                assertEquals(reference.mean(), fromCounts.mean(), 1e-15, "layout " + x.layout());
                assertTrue(reference.mean() > 0 && reference.mean() < 1, "a case with hits and misses: " + reference.mean());
            }
        }
    }

    @Test
    void refusesWhatItCannotCountNamingTheShapes() {
        try (Tensor logits = device.allocate(Shape.of(2, 3, 4, 4)); Tensor labels = device.allocate(Shape.of(2, 4, 4), DType.I32);
             Tensor wrongLabels = device.allocate(Shape.of(2, 4, 5), DType.I32);
             Tensor flat = device.allocate(Shape.of(2, 3));
             Tensor counts = device.allocate(Shape.of(11), DType.I32); Tensor short_ = device.allocate(Shape.of(3), DType.I32)) {
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> device.reductions().countSegmentation(logits, wrongLabels, -100, counts));
            assertTrue(shape.getMessage().contains("[2, 4, 5]") && shape.getMessage().contains("[2, 3, 4, 4]"), shape.getMessage());
            IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                    () -> device.reductions().countSegmentation(logits, labels, -100, short_));
            assertTrue(length.getMessage().contains("11"), length.getMessage());
            assertThrows(IllegalArgumentException.class, () -> device.reductions().countSegmentation(flat, labels, -100, counts));
            assertThrows(IllegalArgumentException.class, () -> device.reductions().countSegmentation(logits, labels, -100, null));
        }
    }
}
