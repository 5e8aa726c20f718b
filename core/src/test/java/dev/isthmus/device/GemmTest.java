package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = new CpuDevice();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /** C = alpha op(A) op(B) + beta C in double precision, row-major with leading dimensions. */
    static double[] reference(boolean ta, boolean tb, int m, int n, int k, double alpha,
                              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                              double beta, float[] c, int cOff, int ldc) {
        double[] out = new double[c.length];
        for (int i = 0; i < c.length; i++) {
            out[i] = c[i];
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    sum += av * bv;
                }
                int idx = cOff + i * ldc + j;
                out[idx] = alpha * sum + beta * c[idx];
            }
        }
        return out;
    }

    @ParameterizedTest(name = "transA={0} transB={1} seed={2}")
    @CsvSource({
        "false,false,1", "false,true,2", "true,false,3", "true,true,4",
        "false,false,5", "false,true,6", "true,false,7", "true,true,8"})
    void matchesADoublePrecisionReferenceOnRandomShapes(boolean ta, boolean tb, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (int trial = 0; trial < 12; trial++) {
            int m = 1 + random.nextInt(70);
            int n = 1 + random.nextInt(70);
            int k = 1 + random.nextInt(90);
            // Leading dimensions at or above the minimum, and offsets into larger buffers.
            int lda = (ta ? m : k) + random.nextInt(4);
            int ldb = (tb ? k : n) + random.nextInt(4);
            int ldc = n + random.nextInt(4);
            int aOff = random.nextInt(5);
            int bOff = random.nextInt(5);
            int cOff = random.nextInt(5);
            float[] a = randomArray(random, aOff + (ta ? k : m) * lda);
            float[] b = randomArray(random, bOff + (tb ? n : k) * ldb);
            float[] c = randomArray(random, cOff + m * ldc);
            float alpha = (float) (random.nextDouble() * 2 - 1);
            float beta = trial % 3 == 0 ? 0f : (float) (random.nextDouble() * 2 - 1);
            double[] expected = reference(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            try (Tensor ta_ = device.fromArray(Shape.of(a.length), a);
                 Tensor tb_ = device.fromArray(Shape.of(b.length), b);
                 Tensor tc = device.fromArray(Shape.of(c.length), c)) {
                device.blas().gemm(Transpose.of(ta), Transpose.of(tb), m, n, k, alpha, ta_, aOff, lda, tb_, bOff, ldb,
                        beta, tc, cOff, ldc);
                float[] actual = tc.toFloatArray();
                for (int i = 0; i < actual.length; i++) {
                    double tolerance = 1e-5 * (1 + k) * 2;
                    assertEquals(expected[i], actual[i], tolerance,
                            "m=" + m + " n=" + n + " k=" + k + " element " + i);
                }
            }
        }
    }

    @Test
    void matmulChecksTheShapesOfWholeMatrices() {
        try (Tensor a = device.fromArray(Shape.of(2, 3), 1, 2, 3, 4, 5, 6);
             Tensor b = device.fromArray(Shape.of(3, 2), 7, 8, 9, 10, 11, 12);
             Tensor c = device.allocate(Shape.of(2, 2));
             Tensor wrong = device.allocate(Shape.of(3, 3))) {
            device.blas().matmul(a, Transpose.NO, b, Transpose.NO, c, 1f, 0f);
            assertArrayClose(new float[] {58, 64, 139, 154}, c.toFloatArray());
            IllegalArgumentException failure = assertThrows(IllegalArgumentException.class,
                    () -> device.blas().matmul(a, Transpose.NO, b, Transpose.NO, wrong, 1f, 0f));
            assertTrue(failure.getMessage().contains("[3, 3]"), failure.getMessage());
        }
    }

    @Test
    void leadingDimensionsAndBoundsAreCheckedBeforeTheNativeCall() {
        try (Tensor a = device.allocate(Shape.of(6));
             Tensor b = device.allocate(Shape.of(6));
             Tensor c = device.allocate(Shape.of(4))) {
            IllegalArgumentException smallLd = assertThrows(IllegalArgumentException.class,
                    () -> device.blas().gemm(Transpose.NO, Transpose.NO, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
            assertTrue(smallLd.getMessage().startsWith("gemm: A is 2x3"), smallLd.getMessage());
            IllegalArgumentException outOfBounds = assertThrows(IllegalArgumentException.class,
                    () -> device.blas().gemm(Transpose.NO, Transpose.NO, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
            assertTrue(outOfBounds.getMessage().contains("needs 7 elements"), outOfBounds.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> device.blas().gemm(Transpose.NO, Transpose.NO, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
            assertThrows(IllegalArgumentException.class,
                    () -> device.blas().gemm(Transpose.NO, Transpose.NO, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, a, 0, 2));
        }
    }

    static float[] randomArray(SplittableRandom random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    static void assertArrayClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "element " + i);
        }
    }
}
