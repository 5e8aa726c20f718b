package dev.isthmus.metric;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiceScoreTest {

    @Test
    void handComputedScores() {
        DiceScore dice = new DiceScore(3);
        // truth:     0 1 1 2 2 2 0 0
        // predicted: 0 1 2 2 2 0 0 1
        dice.update(new int[] {0, 1, 2, 2, 2, 0, 0, 1}, new int[] {0, 1, 1, 2, 2, 2, 0, 0});
        // class 1: |A| = 2, |B| = 2, |A∩B| = 1 -> 0.5; class 2: |A| = 3, |B| = 3, |A∩B| = 2 -> 2/3
        assertEquals(0.5, dice.dice(1), 1e-12);
        assertEquals(2.0 / 3, dice.dice(2), 1e-12);
        assertEquals((0.5 + 2.0 / 3) / 2, dice.mean(), 1e-12);
        dice.reset();
        assertTrue(Double.isNaN(dice.mean()));
    }

    @Test
    void absentClassesAreLeftOutAndIgnoredPixelsCountForNothing() {
        DiceScore dice = new DiceScore(4, 0, 255);
        dice.update(new int[] {1, 1, 0, 3}, new int[] {1, 1, 0, 255});
        assertEquals(1.0, dice.dice(1));
        assertTrue(Double.isNaN(dice.dice(2)));
        assertTrue(Double.isNaN(dice.dice(3)));
        assertEquals(1.0, dice.mean());
    }

    @Test
    void readsLogitsInAnyLayout() {
        try (Device device = new CpuDevice(1)) {
            Shape shape = Shape.of(1, 2, 1, 3);
            // logits per pixel: (0.1, 0.9) (0.8, 0.2) (0.3, 0.7) -> predicted 1 0 1
            try (Tensor logits = device.allocateActivation(shape).copyFrom(new float[] {0.1f, 0.8f, 0.3f, 0.9f, 0.2f, 0.7f});
                 Tensor labels = device.fromInts(Shape.of(1, 1, 3), 1, 1, 1)) {
                DiceScore dice = new DiceScore(2);
                dice.update(logits, labels);
                // class 1: |A| = 2, |B| = 3, |A∩B| = 2 -> 0.8
                assertEquals(0.8, dice.mean(), 1e-12);
                assertThrows(IllegalArgumentException.class, () -> new DiceScore(3).update(logits, labels));
            }
        }
    }

    /**
     * torch.argmax's rule (torch 1.13.1: argmax([[[1,2],[nan,2],[3,5],[nan,5]]], dim=1) = [[1, 2]],
     * argmax([[[2,-1],[2,-1],[1,-1]]], dim=1) = [[0, 0]]): the first NaN beats every number, the
     * first maximum wins a tie.
     */
    @Test
    void argmaxTakesTheFirstNanAndTheFirstOfTiedMaxima() {
        float nan = Float.NaN;
        // [N=1, C=4, positions=2], row-major
        assertArrayEquals(new int[] {1, 2}, DiceScore.argmax(new float[] {1, 2, nan, 2, 3, 5, nan, 5}, 1, 4));
        // [N=1, C=3, positions=2]
        assertArrayEquals(new int[] {0, 0}, DiceScore.argmax(new float[] {2, -1, 2, -1, 1, -1}, 1, 3));
    }
}
