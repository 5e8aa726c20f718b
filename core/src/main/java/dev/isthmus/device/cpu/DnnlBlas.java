package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.tensor.Tensor;

/**
 * The BLAS family with oneDNN's SGEMM, which runs on the same OpenMP threads as the other oneDNN
 * primitives (a second pool spinning beside them would fight for the cores) and uses AVX-512.
 */
final class DnnlBlas extends CpuBlas {
    private static final byte NO = 'N';
    private static final byte YES = 'T';

    private final DnnlRuntime dnnl;

    DnnlBlas(CpuScratch scratch, DnnlRuntime dnnl) {
        super(scratch);
        this.dnnl = dnnl;
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
                     Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        dnnl.configureThisThread();
        DnnlRuntime.check(dnnl_h.dnnl_sgemm(transA ? YES : NO, transB ? YES : NO, m, n, k, alpha, at(a, aOffset), lda,
                at(b, bOffset), ldb, beta, at(c, cOffset), ldc), "dnnl_sgemm");
    }
}
