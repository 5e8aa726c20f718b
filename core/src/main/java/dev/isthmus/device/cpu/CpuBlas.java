package dev.isthmus.device.cpu;

import dev.isthmus.device.BlasKernels;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** The BLAS family on OpenBLAS (SGEMM, SAXPY, SSCAL through the generated cblas binding). */
class CpuBlas implements BlasKernels.Backend {
    private final CpuScratch scratch;

    CpuBlas(CpuScratch scratch) {
        this.scratch = scratch;
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
                     Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /** OpenBLAS's SGEMM on tensors, unvalidated: for the im2col convolution, whose caller validated. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
                      Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        OpenBlas.sgemm(transA, transB, m, n, k, alpha, at(a, aOffset), lda, at(b, bOffset), ldb, beta, at(c, cOffset), ldc);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        Tensor source = scratch.inLayout(x, y.layout(), CpuScratch.Slot.FIRST_INPUT);
        OpenBlas.saxpy((int) x.elementCount(), alpha, source.memory(), y.memory());
    }

    @Override
    public void scale(Tensor x, float alpha) {
        OpenBlas.sscal((int) x.elementCount(), alpha, x.memory());
    }

    /** The memory of {@code tensor} from element {@code offset} on. */
    static MemorySegment at(Tensor tensor, long offset) {
        MemorySegment memory = tensor.memory();
        return offset == 0 ? memory : memory.asSlice(offset * Float.BYTES);
    }
}
