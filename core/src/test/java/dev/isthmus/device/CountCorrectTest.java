package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Device#countCorrect} on hand-computed rows: ties go to the lower index and NaN ranks first, as in torch.topk. */
class CountCorrectTest {
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
     * Eight rows of four classes. torch.argmax per row: 1, 0 (tie 0/2), 0 (tie 0/2), 3 (NaN), 1
     * (first of two NaNs), 2, 2 (label out of range), 0 (all equal).
     */
    static final float[] LOGITS = {
        0.1f, 0.9f, 0.3f, 0.2f,
        0.5f, 0.1f, 0.5f, 0.0f,
        0.5f, 0.1f, 0.5f, 0.0f,
        9.0f, 1.0f, 2.0f, NAN,
        1.0f, NAN, NAN, 3.0f,
        -1f, -3f, -0.5f, -2f,
        0.0f, 0.0f, 1.0f, 0.0f,
        7.0f, 7.0f, 7.0f, 7.0f,
    };
    static final int[] LABELS = {1, 0, 2, 0, 2, 3, 4, 3};
    /** Top-1 hits: rows 0 and 1. Row 2's label ties with class 0, which is first; row 3's label is beaten by NaN. */
    static final int TOP1 = 2;
    /**
     * Top-2 hits: row 0 (rank 1), 1 (1), 2 (2: after class 0), 3 (2: after the NaN), 4 (2: after the
     * first NaN); not row 5 (rank 3 of −0.5, −1, −2, −3: label −2 ranks third), 6 (out of range) or 7
     * (four-way tie: class 3 is fourth).
     */
    static final int TOP2 = 5;

    @Test
    void countsTopOneAndTopKAsTorchRanksThemAndAddsToTheCounter() {
        try (Tensor logits = device.fromArray(Shape.of(8, 4), LOGITS); Tensor labels = device.fromInts(Shape.of(8), LABELS);
             Tensor counter = device.fromInts(Shape.of(1), 100)) {
            device.reductions().countCorrect(logits, labels, 1, counter);
            assertEquals(100 + TOP1, counter.toIntArray()[0]);
            device.reductions().countCorrect(logits, labels, 2, counter);
            assertEquals(100 + TOP1 + TOP2, counter.toIntArray()[0]);
            device.reductions().countCorrect(logits, labels, 4, counter);
            assertEquals(100 + TOP1 + TOP2 + 7, counter.toIntArray()[0], "k = C: every row with a valid label counts");
        }
    }

    @Test
    void aLabelAtArgmaxsFirstMaximalIndexCountsAndTheOtherTiedOneDoesNot() {
        try (Tensor logits = device.fromArray(Shape.of(2, 3), 2f, 5f, 5f, 2f, 5f, 5f);
             Tensor labels = device.fromInts(Shape.of(2), 1, 2); Tensor counter = device.allocate(Shape.of(1), DType.I32)) {
            device.reductions().countCorrect(logits, labels, 1, counter);
            assertEquals(1, counter.toIntArray()[0]);
        }
    }

    @Test
    void refusesWhatItCannotCount() {
        try (Tensor logits = device.allocate(Shape.of(3, 4)); Tensor labels = device.allocate(Shape.of(3), DType.I32);
             Tensor floatLabels = device.allocate(Shape.of(3)); Tensor counter = device.allocate(Shape.of(1), DType.I32);
             Tensor floatCounter = device.allocate(Shape.of(1)); Tensor wide = device.allocate(Shape.of(2), DType.I32);
             Tensor shortLabels = device.allocate(Shape.of(2), DType.I32); Tensor flat = device.allocate(Shape.of(12))) {
            assertRefused("labels [3] is F32, expected I32", () -> device.reductions().countCorrect(logits, floatLabels, 1, counter));
            assertRefused("counter [1] is F32, expected I32", () -> device.reductions().countCorrect(logits, labels, 1, floatCounter));
            assertRefused("counter must hold one element, got [2]", () -> device.reductions().countCorrect(logits, labels, 1, wide));
            assertRefused("labels [2] must be [N] for logits [3, 4]", () -> device.reductions().countCorrect(logits, shortLabels, 1, counter));
            assertRefused("logits [12] must be [N, C]", () -> device.reductions().countCorrect(flat, labels, 1, counter));
            assertRefused("k must be in [1, 4] for logits [3, 4], got 5", () -> device.reductions().countCorrect(logits, labels, 5, counter));
            assertRefused("k must be in [1, 4] for logits [3, 4], got 0", () -> device.reductions().countCorrect(logits, labels, 0, counter));
            assertEquals(0, counter.toIntArray()[0], "a refused call adds nothing");
        }
    }

    private static void assertRefused(String message, Runnable call) {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(refused.getMessage().startsWith("countCorrect: ") && refused.getMessage().contains(message),
                refused.getMessage());
    }
}
