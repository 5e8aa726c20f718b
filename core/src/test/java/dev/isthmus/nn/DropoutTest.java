package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropoutTest {
    @Test
    void keepsOneMinusPOfTheElementsScaledByItsInverse() {
        int count = 100_000;
        float p = 0.3f;
        try (Device device = new CpuDevice(2); Dropout dropout = new Dropout(p)) {
            dropout.setup(device, Shape.of(count));
            dropout.resetParameters(new SplittableRandom(5));
            float[] ones = new float[count];
            Arrays.fill(ones, 1f);
            try (Tensor input = device.fromArray(Shape.of(count), ones)) {
                float[] out = dropout.forward(input, true).toFloatArray();
                int kept = 0;
                for (float v : out) {
                    if (v != 0) {
                        assertEquals(1 / (1 - p), v, 1e-6f);
                        kept++;
                    }
                }
                // Binomial(100000, 0.7): sd ≈ 145; six sigma is far outside chance.
                double expected = count * (1 - p);
                assertTrue(Math.abs(kept - expected) < 6 * Math.sqrt(count * p * (1 - p)), "kept " + kept);
                // A second call draws a different mask; the mean stays 1 in expectation.
                float[] second = dropout.forward(input, true).toFloatArray();
                assertFalse(Arrays.equals(out, second));
            }
        }
    }

    @Test
    void evalModeIsTheIdentityAndSeedsReplay() {
        try (Device device = new CpuDevice(1); Dropout a = new Dropout(0.5f); Dropout b = new Dropout(0.5f)) {
            Shape shape = Shape.of(4, 8);
            a.setup(device, shape);
            b.setup(device, shape);
            a.resetParameters(new SplittableRandom(9));
            b.resetParameters(new SplittableRandom(9));
            try (Tensor input = device.fromArray(shape, dev.isthmus.testing.TestData.uniform(32, 1, 1))) {
                assertSame(input, a.forward(input, false));
                assertArrayEquals(a.forward(input, true).toFloatArray(), b.forward(input, true).toFloatArray());
                assertEquals(1, a.calls());
            }
        }
    }
}
