package dev.isthmus.device.cuda;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which LocalResponseNorm settings the CUDA device hands to cuDNN (no GPU needed: the decision is
 * made before any native call). cuDNN's window equals PyTorch's only for odd sizes, and cuDNN
 * takes sizes 1..16, k ≥ 1e-5 and beta ≥ 0.01 (cudnn_ops.h).
 */
class CudaLocalResponseNormLimitsTest {
    private static final Shape NCHW = Shape.of(2, 6, 3, 3);

    private static String whyNot(int size, double alpha, double beta, double k) {
        return CudaLocalResponseNorm.whyNot(size, (float) alpha, (float) beta, (float) k, NCHW, DType.F32);
    }

    @Test
    void oddSizesWithinCudnnsLimitsGoToCudnn() {
        for (int size : new int[] {1, 3, 5, 15}) {
            assertNull(whyNot(size, 1e-4, 0.75, 2.0), "size " + size);
        }
        assertNull(whyNot(5, 1e-4, 0.01, 2.0), "beta at cuDNN's minimum as a float");
        assertNull(whyNot(5, 1e-4, 0.75, 1e-5), "k at cuDNN's minimum as a float");
        assertNull(whyNot(5, -3.0, 0.75, 1e-4), "alpha is not limited");
        assertNull(CudaLocalResponseNorm.whyNot(3, 1e-4f, 0.75f, 1f, Shape.of(4, 3, 7), DType.F32), "rank 3");
        assertNull(CudaLocalResponseNorm.whyNot(3, 1e-4f, 0.75f, 1f, Shape.of(1, 3, 2, 2, 2, 2), DType.F32), "rank 6");
    }

    @Test
    void aMinimumWrittenAsAFloatReachesCudnnAsItsDouble() {
        // 0.01f widens to 0.0099999998, which cuDNN would reject; it is sent as cuDNN's 0.01.
        assertTrue((double) 0.01f < 0.01);
        assertEquals(0.01, CudaLocalResponseNorm.atLeast(0.01f, 0.01));
        assertEquals(1e-5, CudaLocalResponseNorm.atLeast(1e-5f, 1e-5));
        assertEquals((double) 0.75f, CudaLocalResponseNorm.atLeast(0.75f, 0.01));
    }

    @Test
    void evenSizesAreRefusedWithBothWindows() {
        for (int size : new int[] {2, 4, 16}) {
            String why = whyNot(size, 1e-4, 0.75, 2.0);
            assertTrue(why != null && why.contains("even") && why.contains("floor((n-1)/2) = " + (size - 1) / 2)
                    && why.contains("n/2 = " + size / 2), String.valueOf(why));
        }
    }

    @Test
    void settingsOutsideCudnnsLimitsAreRefused() {
        assertTrue(whyNot(17, 1e-4, 0.75, 2.0).contains("outside cuDNN's 1..16"));
        assertTrue(whyNot(5, 1e-4, 0.75, 0.0).contains("k 0.0 is below"));
        assertTrue(whyNot(5, 1e-4, 0.75, 0.9e-5).contains("below cuDNN's minimum 1.0E-5"));
        assertTrue(whyNot(5, 1e-4, 0.005, 1.0).contains("beta 0.005"));
        assertTrue(CudaLocalResponseNorm.whyNot(5, 1e-4f, 0.75f, 2f, NCHW, DType.BF16).contains("F32"));
    }
}
