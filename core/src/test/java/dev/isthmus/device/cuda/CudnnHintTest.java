package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hints follow cudnnStatus_t as cuDNN 9 numbers it (categories by the thousand) and as cuDNN 8 did (1 to 14). */
class CudnnHintTest {
    @Test
    void cudnn9StatusesAreHintedByCategory() {
        assertTrue(Cudnn.hint(3000).contains("does not support"), "CUDNN_STATUS_NOT_SUPPORTED");
        assertEquals(Cudnn.hint(3000), Cudnn.hint(3002), "NOT_SUPPORTED_SHAPE is a NOT_SUPPORTED");
        assertTrue(Cudnn.hint(2000).contains("does not accept"), "CUDNN_STATUS_BAD_PARAM");
        assertEquals(Cudnn.hint(2000), Cudnn.hint(2002), "BAD_PARAM_NULL_POINTER is a BAD_PARAM");
        assertEquals(Cudnn.hint(2000), Cudnn.hint(2001), "the deprecated INVALID_VALUE is a BAD_PARAM");
        assertTrue(Cudnn.hint(4000).contains("ISTHMUS_CUDA_SYNC=1"), "CUDNN_STATUS_INTERNAL_ERROR");
        assertTrue(Cudnn.hint(4004).contains("lower the batch size"), "INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED");
        assertTrue(Cudnn.hint(5000).contains("the GPU failed"), "CUDNN_STATUS_EXECUTION_FAILED");
        assertTrue(Cudnn.hint(5002).contains("the GPU failed"), "EXECUTION_FAILED_CUBLAS");
        assertTrue(Cudnn.hint(1008).contains("sub-library"), "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED");
        assertTrue(Cudnn.hint(3009).contains("sub-library"), "NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE");
        assertTrue(Cudnn.hint(3007).contains("architecture"), "NOT_SUPPORTED_ARCH_MISMATCH");
        assertTrue(Cudnn.hint(1002).contains("different versions"), "SUBLIBRARY_VERSION_MISMATCH");
    }

    @Test
    void cudnn8StatusesKeepTheirOwnMeaning() {
        assertEquals(Cudnn.hint(3000), Cudnn.hint(9), "cuDNN 8's NOT_SUPPORTED");
        assertEquals(Cudnn.hint(2000), Cudnn.hint(3), "cuDNN 8's BAD_PARAM");
        assertEquals(Cudnn.hint(5000), Cudnn.hint(8), "cuDNN 8's EXECUTION_FAILED");
        assertTrue(Cudnn.hint(2).contains("lower the batch size"), "cuDNN 8's ALLOC_FAILED");
        assertTrue(Cudnn.hint(6).contains("architecture"), "cuDNN 8's ARCH_MISMATCH");
    }
}
