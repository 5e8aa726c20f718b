package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/**
 * The BLAS family: GEMM on row-major matrices inside tensors, whole-tensor matrix products, axpy
 * and scaling. Validates every operand (device, dtype, layout, bounds) before the backend runs.
 */
public final class BlasKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        /**
         * Row-major C = alpha · op(A) · op(B) + beta · C (m, n > 0).
         *
         * @param transA whether A is used transposed
         * @param transB whether B is used transposed
         * @param m the number of rows of op(A) and C
         * @param n the number of columns of op(B) and C
         * @param k the inner dimension: columns of op(A), rows of op(B)
         * @param alpha the scale of the product (or of x)
         * @param a the tensor that holds A
         * @param aOffset the element where A starts in {@code a}
         * @param lda the leading dimension of A as stored
         * @param b the tensor that holds B
         * @param bOffset the element where B starts in {@code b}
         * @param ldb the leading dimension of B as stored
         * @param beta the scale of C's existing values (0: overwrite)
         * @param c the tensor that holds C, written
         * @param cOffset the element where C starts in {@code c}
         * @param ldc the leading dimension of C
         */
        void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
                  Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc);

        /**
         * y ← alpha · x + y, same element count (layouts may differ).
         *
         * @param alpha the scale of the product (or of x)
         * @param x the vector x
         * @param y the vector y, updated in place
         */
        void axpy(float alpha, Tensor x, Tensor y);

        /**
         * x ← alpha · x.
         *
         * @param x the vector x
         * @param alpha the scale of the product (or of x)
         */
        void scale(Tensor x, float alpha);
    }

    private final Device device;
    private final Backend backend;

    BlasKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /**
     * Row-major GEMM: C = alpha · op(A) · op(B) + beta · C, where op(A) is m×k, op(B) is k×n and C
     * is m×n; each matrix starts at an element offset inside its tensor and has a leading
     * dimension (the stride between rows as stored). With beta = 0, C's old contents are ignored.
     *
     * @param transA whether A is used transposed
     * @param transB whether B is used transposed
     * @param m the number of rows of op(A) and C
     * @param n the number of columns of op(B) and C
     * @param k the inner dimension: columns of op(A), rows of op(B)
     * @param alpha the scale of the product (or of x)
     * @param a the tensor that holds A
     * @param aOffset the element where A starts in {@code a}
     * @param lda the leading dimension of A as stored
     * @param b the tensor that holds B
     * @param bOffset the element where B starts in {@code b}
     * @param ldb the leading dimension of B as stored
     * @param beta the scale of C's existing values (0: overwrite)
     * @param c the tensor that holds C, written
     * @param cOffset the element where C starts in {@code c}
     * @param ldc the leading dimension of C
     */
    public void gemm(Transpose transA, Transpose transB, int m, int n, int k,
                     float alpha, Tensor a, long aOffset, int lda,
                     Tensor b, long bOffset, int ldb,
                     float beta, Tensor c, long cOffset, int ldc) {
        final String op = "gemm";
        DType dtype = Checks.floating(op, "A", a, device);
        Checks.tensor(op, "B", b, device, dtype);
        Checks.tensor(op, "C", c, device, dtype);
        Checks.rowMajor(op, "A", a);
        Checks.rowMajor(op, "B", b);
        Checks.rowMajor(op, "C", c);
        Checks.nonNegative(op, "m", m);
        Checks.nonNegative(op, "n", n);
        Checks.nonNegative(op, "k", k);
        if (transA == null || transB == null) {
            throw new IllegalArgumentException(op + ": transpose flags must not be null");
        }
        boolean ta = transA == Transpose.YES;
        boolean tb = transB == Transpose.YES;
        Checks.matrix(op, ta ? "A (stored k x m)" : "A", a, aOffset, ta ? k : m, ta ? m : k, lda);
        Checks.matrix(op, tb ? "B (stored n x k)" : "B", b, bOffset, tb ? n : k, tb ? k : n, ldb);
        Checks.matrix(op, "C", c, cOffset, m, n, ldc);
        if (c.sharesMemoryWith(a) || c.sharesMemoryWith(b)) {
            throw new IllegalArgumentException(op + ": C " + c.shape() + " must not share memory with A or B");
        }
        if (m == 0 || n == 0) {
            return;
        }
        try (Device.Guard ignored = device.enter()) {
            backend.gemm(ta, tb, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
    }

    /**
     * Whole-tensor matrix product: C[m,n] = alpha · op(A) · op(B) + beta · C for rank-2 tensors.
     *
     * @param a the tensor that holds A
     * @param transA whether A is used transposed
     * @param b the tensor that holds B
     * @param transB whether B is used transposed
     * @param c the tensor that holds C, written
     * @param alpha the scale of the product (or of x)
     * @param beta the scale of C's existing values (0: overwrite)
     */
    public void matmul(Tensor a, Transpose transA, Tensor b, Transpose transB, Tensor c, float alpha, float beta) {
        requireMatrix("A", a);
        requireMatrix("B", b);
        requireMatrix("C", c);
        int m = c.shape().dim(0);
        int n = c.shape().dim(1);
        int k = transA == Transpose.YES ? a.shape().dim(0) : a.shape().dim(1);
        int aRows = transA == Transpose.YES ? a.shape().dim(1) : a.shape().dim(0);
        int bRows = transB == Transpose.YES ? b.shape().dim(1) : b.shape().dim(0);
        int bCols = transB == Transpose.YES ? b.shape().dim(0) : b.shape().dim(1);
        if (aRows != m || bRows != k || bCols != n) {
            throw new IllegalArgumentException("matmul: op(A) " + a.shape() + (transA == Transpose.YES ? "^T" : "")
                    + " x op(B) " + b.shape() + (transB == Transpose.YES ? "^T" : "") + " does not give C " + c.shape());
        }
        gemm(transA, transB, m, n, k, alpha, a, 0, a.shape().dim(1), b, 0, b.shape().dim(1), beta, c, 0, n);
    }

    private static void requireMatrix(String role, Tensor t) {
        if (t == null || t.shape().rank() != 2) {
            throw new IllegalArgumentException("matmul: " + role + " must be a rank-2 tensor, got "
                    + (t == null ? "null" : t.shape()));
        }
    }

    /**
     * y ← alpha · x + y.
     *
     * @param alpha the scale of the product (or of x)
     * @param x the vector x
     * @param y the vector y, updated in place
     */
    public void axpy(float alpha, Tensor x, Tensor y) {
        DType dtype = Checks.floating("axpy", "x", x, device);
        Checks.tensor("axpy", "y", y, device, dtype);
        Checks.sameCount("axpy", x, "x", y, "y");
        try (Device.Guard ignored = device.enter()) {
            backend.axpy(alpha, x, y);
        }
    }

    /**
     * x ← alpha · x.
     *
     * @param x the vector x
     * @param alpha the scale of the product (or of x)
     */
    public void scale(Tensor x, float alpha) {
        Checks.floating("scale", "x", x, device);
        try (Device.Guard ignored = device.enter()) {
            backend.scale(x, alpha);
        }
    }
}
