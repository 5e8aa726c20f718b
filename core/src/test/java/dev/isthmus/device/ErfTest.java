package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** GELU rests on an erf that java.lang.Math lacks; check it against known values (Python's math.erf of x/√2). */
class ErfTest {
    @Test
    void geluMatchesTheExactErfForm() {
        double[] x = {-6, -3, -1.5, -0.4, -1e-3, 0, 1e-3, 0.3, 0.46875, 0.5, 1, 2, 3.9, 4.1, 6};
        double[] erfOfXOverSqrt2 = {-0.9999999980268247, -0.9973002039367398, -0.8663855974622838, -0.3108434832206483, -0.0007978844278221252, 0.0, 0.0007978844278221252, 0.23582284437790524, 0.3607516569657647, 0.3829249225480262, 0.6826894921370859, 0.9544997361036416, 0.9999038073119648, 0.9999586849861749, 0.9999999980268247};
        float[] input = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            input[i] = (float) x[i];
        }
        try (Device device = new CpuDevice(1); Tensor in = device.fromArray(Shape.of(x.length), input);
             Tensor out = device.allocate(Shape.of(x.length))) {
            device.activations().forward(Activation.GELU, 0f, in, out);
            float[] gelu = out.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                double expected = 0.5 * x[i] * (1 + erfOfXOverSqrt2[i]);
                assertEquals(expected, gelu[i], 1e-7 * Math.max(1, Math.abs(expected)), "gelu(" + x[i] + ")");
            }
        }
    }
}
