package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cublas.cublas_h;
import dev.isthmus.device.BlasKernels;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The BLAS family on cuBLAS, on the device's stream. */
final class CudaBlas implements BlasKernels.Backend {
    private final CudaDevice cuda;
    // Pointer mode host: cuBLAS reads alpha and beta when called, so the cells are reused.
    private final MemorySegment alphaCell;
    private final MemorySegment betaCell;

    CudaBlas(CudaDevice cuda, Arena arena) {
        this.cuda = cuda;
        this.alphaCell = arena.allocate(ValueLayout.JAVA_FLOAT);
        this.betaCell = arena.allocate(ValueLayout.JAVA_FLOAT);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
                     Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        cuda.enterContext();
        // cuBLAS is column-major: row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ.
        alphaCell.set(ValueLayout.JAVA_FLOAT, 0, alpha);
        betaCell.set(ValueLayout.JAVA_FLOAT, 0, beta);
        Cublas.check(cublas_h.cublasSgemm_v2(cuda.cublas(), transB ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(),
                transA ? cublas_h.CUBLAS_OP_T() : cublas_h.CUBLAS_OP_N(), n, m, k, alphaCell, at(b, bOffset), ldb,
                at(a, aOffset), lda, betaCell, at(c, cOffset), ldc), "cublasSgemm");
        cuda.afterOperation("gemm");
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        cuda.enterContext();
        alphaCell.set(ValueLayout.JAVA_FLOAT, 0, alpha);
        // cuBLAS counts in an int: a longer vector goes in chunks.
        long n = x.elementCount();
        for (long chunk = 0, chunks = ElementChunks.count(n); chunk < chunks; chunk++) {
            long start = ElementChunks.start(chunk);
            Cublas.check(cublas_h.cublasSaxpy_v2(cuda.cublas(), ElementChunks.length(n, chunk), alphaCell, at(x, start), 1,
                    at(y, start), 1), "cublasSaxpy");
        }
        cuda.afterOperation("axpy");
    }

    @Override
    public void scale(Tensor x, float alpha) {
        cuda.enterContext();
        alphaCell.set(ValueLayout.JAVA_FLOAT, 0, alpha);
        long n = x.elementCount();
        for (long chunk = 0, chunks = ElementChunks.count(n); chunk < chunks; chunk++) {
            Cublas.check(cublas_h.cublasSscal_v2(cuda.cublas(), ElementChunks.length(n, chunk), alphaCell,
                    at(x, ElementChunks.start(chunk)), 1), "cublasSscal");
        }
        cuda.afterOperation("scale");
    }

    private static MemorySegment at(Tensor tensor, long offset) {
        return offset == 0 ? tensor.memory() : MemorySegment.ofAddress(tensor.memory().address() + offset * Float.BYTES);
    }
}
