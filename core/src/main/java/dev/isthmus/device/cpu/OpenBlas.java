package dev.isthmus.device.cpu;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.cblas.cblas_h;

import java.lang.foreign.MemorySegment;

/**
 * The OpenBLAS entry points the CPU device uses. Callers validate arguments first (see
 * {@link dev.isthmus.device.Device}); this class only translates to CBLAS's row-major calls.
 */
public final class OpenBlas {
    private OpenBlas() {
    }

    /** Loads OpenBLAS now, so that a missing library is reported when a device is made, not mid-step. */
    public static void require() {
        NativeLibrary.OPENBLAS.load();
    }

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), transA ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
                transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    public static void saxpy(int n, float alpha, MemorySegment x, MemorySegment y) {
        cblas_h.cblas_saxpy(n, alpha, x, 1, y, 1);
    }

    public static void sscal(int n, float alpha, MemorySegment x) {
        cblas_h.cblas_sscal(n, alpha, x, 1);
    }

    public static float sdot(int n, MemorySegment x, MemorySegment y) {
        return cblas_h.cblas_sdot(n, x, 1, y, 1);
    }

    public static float snrm2(int n, MemorySegment x) {
        return cblas_h.cblas_snrm2(n, x, 1);
    }

    public static int threads() {
        return cblas_h.openblas_get_num_threads();
    }

    public static void setThreads(int threads) {
        cblas_h.openblas_set_num_threads(threads);
    }

    public static String config() {
        return cblas_h.openblas_get_config().reinterpret(4096).getString(0);
    }

    public static String coreName() {
        return cblas_h.openblas_get_corename().reinterpret(256).getString(0);
    }
}
