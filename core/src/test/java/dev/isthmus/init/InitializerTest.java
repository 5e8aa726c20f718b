package dev.isthmus.init;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Linear;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Distributions checked by their moments and bounds on many draws; seeds reproduce exactly. */
class InitializerTest {
    private static final int FAN_IN = 300;
    private static final int FAN_OUT = 500;
    private static final int COUNT = 200_000;

    private static double[] moments(float[] values) {
        double sum = 0;
        double squares = 0;
        double max = 0;
        for (float v : values) {
            sum += v;
            squares += (double) v * v;
            max = Math.max(max, Math.abs(v));
        }
        double mean = sum / values.length;
        return new double[] {mean, Math.sqrt(squares / values.length - mean * mean), max};
    }

    private static float[] draw(Initializer initializer) {
        return initializer.values(COUNT, FAN_IN, FAN_OUT, new SplittableRandom(42));
    }

    @Test
    void uniformFamiliesHaveTheirBoundsAndVariance() {
        double xavierBound = Math.sqrt(6.0 / (FAN_IN + FAN_OUT));
        assertUniform(draw(Initializers.xavierUniform(1.0)), xavierBound);
        double kaimingBound = Math.sqrt(2.0) * Math.sqrt(3.0 / FAN_IN);
        assertUniform(draw(Initializers.kaimingUniform(0, Initializers.FanMode.FAN_IN, "relu")), kaimingBound);
        double fanOutBound = Math.sqrt(2.0) * Math.sqrt(3.0 / FAN_OUT);
        assertUniform(draw(Initializers.kaimingUniform(0, Initializers.FanMode.FAN_OUT, "relu")), fanOutBound);
        // PyTorch's Linear/Conv default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        assertUniform(draw(Initializers.torchDefaultWeight()), 1 / Math.sqrt(FAN_IN));
        assertUniform(draw(Initializers.uniform(-0.3, 0.3)), 0.3);
    }

    private static void assertUniform(float[] values, double bound) {
        double[] m = moments(values);
        assertEquals(0, m[0], bound * 0.01);
        assertEquals(bound / Math.sqrt(3), m[1], bound * 0.01);
        assertTrue(m[2] <= bound, "max " + m[2] + " exceeds bound " + bound);
        assertTrue(m[2] > bound * 0.99, "never approaches the bound " + bound);
    }

    @Test
    void normalFamiliesHaveTheirStandardDeviation() {
        assertNormal(draw(Initializers.xavierNormal(1.0)), Math.sqrt(2.0 / (FAN_IN + FAN_OUT)));
        assertNormal(draw(Initializers.kaimingNormal(0, Initializers.FanMode.FAN_OUT, "relu")), Math.sqrt(2.0 / FAN_OUT));
        assertNormal(draw(Initializers.kaimingNormal(0.1, Initializers.FanMode.FAN_IN, "leaky_relu")),
                Math.sqrt(2.0 / 1.01) / Math.sqrt(FAN_IN));
        assertNormal(draw(Initializers.normal(0, 0.02)), 0.02);
    }

    private static void assertNormal(float[] values, double std) {
        double[] m = moments(values);
        assertEquals(0, m[0], std * 0.01);
        assertEquals(std, m[1], std * 0.01);
        assertTrue(m[2] > 3.5 * std, "a normal of 200k draws has values beyond 3.5 sigma");
    }

    @Test
    void constantsAndGains() {
        assertArrayEquals(new float[] {0.5f, 0.5f}, Initializers.constant(0.5f).values(2, 1, 1, new SplittableRandom(1)));
        assertArrayEquals(new float[] {0f, 0f, 0f}, Initializers.zeros().values(3, 1, 1, new SplittableRandom(1)));
        assertEquals(5.0 / 3, Initializers.gain("tanh", 0), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Initializers.gain("swish", 0));
        assertThrows(IllegalArgumentException.class, () -> Initializers.normal(0, -1));
    }

    @Test
    void fansFollowPyTorch() {
        try (Device device = new CpuDevice(1); Tensor conv = device.allocate(Shape.of(16, 3, 5, 5));
             Tensor linear = device.allocate(Shape.of(10, 84))) {
            assertArrayEquals(new int[] {75, 400}, Initializer.fans(conv));
            assertArrayEquals(new int[] {84, 10}, Initializer.fans(linear));
        }
    }

    @Test
    void theSameSeedGivesTheSameWeightsAndAnotherDoesNot() {
        try (Device device = new CpuDevice(1); Conv2d a = new Conv2d(3, 8, 3, 1, 1, true);
             Conv2d b = new Conv2d(3, 8, 3, 1, 1, true); Linear c = new Linear(5, 4)) {
            a.setup(device, Shape.of(1, 3, 8, 8));
            b.setup(device, Shape.of(1, 3, 8, 8));
            a.resetParameters(new SplittableRandom(7));
            b.resetParameters(new SplittableRandom(7));
            assertArrayEquals(a.parameters().get(0).value().toFloatArray(), b.parameters().get(0).value().toFloatArray());
            assertArrayEquals(a.parameters().get(1).value().toFloatArray(), b.parameters().get(1).value().toFloatArray());
            b.resetParameters(new SplittableRandom(8));
            assertFalse(java.util.Arrays.equals(a.parameters().get(0).value().toFloatArray(),
                    b.parameters().get(0).value().toFloatArray()));
            c.setup(device, Shape.of(2, 5));
            c.resetParameters(new SplittableRandom(1));
            double bound = 1 / Math.sqrt(5);
            for (float w : c.parameters().get(0).value().toFloatArray()) {
                assertTrue(Math.abs(w) <= bound);
            }
        }
    }
}
