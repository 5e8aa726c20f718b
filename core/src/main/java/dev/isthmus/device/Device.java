package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where tensors live and every numeric kernel runs. Layers never touch memory directly, so one
 * layer class runs on every device.
 *
 * <p>Each public operation validates its arguments (device, dtype, shapes, index ranges) in Java
 * and only then calls the device's implementation, so a wrong argument is an
 * {@link IllegalArgumentException} naming the operation and the shapes, never a native crash.
 * Operations are asynchronous on devices that queue work; reading results on the host
 * ({@link #copyToHost}) waits for them.
 */
public abstract class Device implements AutoCloseable {
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private volatile boolean closed;

    /** "cpu", "cuda:0". */
    public abstract String name();

    public abstract DeviceKind kind();

    // ---------------------------------------------------------------- memory

    /** A new zero-filled F32 tensor. */
    public final Tensor allocate(Shape shape) {
        return allocate(shape, DType.F32);
    }

    /** A new zero-filled tensor. */
    public final Tensor allocate(Shape shape, DType dtype) {
        ensureOpen();
        if (shape == null || dtype == null) {
            throw new IllegalArgumentException("allocate: shape and dtype must not be null");
        }
        long bytes = shape.elementCount() * dtype.byteSize();
        Storage storage = allocateStorage(bytes);
        long live = liveBytes.addAndGet(bytes);
        peakBytes.accumulateAndGet(live, Math::max);
        return Tensor.owning(storage, shape, dtype);
    }

    /** A new F32 tensor holding {@code values}. */
    public final Tensor fromArray(Shape shape, float... values) {
        Tensor tensor = allocate(shape);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException invalid) {
            tensor.close();
            throw invalid;
        }
    }

    /** A new I32 tensor holding {@code values}. */
    public final Tensor fromInts(Shape shape, int... values) {
        Tensor tensor = allocate(shape, DType.I32);
        try {
            return tensor.copyFrom(values);
        } catch (RuntimeException invalid) {
            tensor.close();
            throw invalid;
        }
    }

    /** Frees a block; called by the owning tensor's close. Freeing twice is harmless. */
    public final void release(Storage storage) {
        if (storage.device() != this) {
            throw new IllegalArgumentException("release: the block belongs to " + storage.device().name()
                    + ", not " + name());
        }
        if (storage.markReleased()) {
            liveBytes.addAndGet(-storage.byteSize());
            freeStorage(storage);
        }
    }

    /** Bytes of tensor memory allocated and not yet freed. */
    public final long liveBytes() {
        return liveBytes.get();
    }

    /** The highest {@link #liveBytes()} seen. */
    public final long peakBytes() {
        return peakBytes.get();
    }

    protected abstract Storage allocateStorage(long bytes);

    protected abstract void freeStorage(Storage storage);

    // ---------------------------------------------------------------- copies and synchronisation

    /** dst ← src, same element count and dtype (shapes may differ, as for a reshape). */
    public final void copy(Tensor source, Tensor destination) {
        final String op = "copy";
        Checks.tensor(op, "source", source, this, source == null ? DType.F32 : source.dtype());
        Checks.tensor(op, "destination", destination, this, source.dtype());
        Checks.sameCount(op, source, "source", destination, "destination");
        doCopy(source, destination);
    }

    /** Copies host memory ({@code destination.byteSize()} bytes, native or a Java array) into a tensor. */
    public final void copyFromHost(MemorySegment source, Tensor destination) {
        final String op = "copyFromHost";
        Checks.tensor(op, "destination", destination, this, destination == null ? DType.F32 : destination.dtype());
        if (source == null || source.byteSize() != destination.byteSize()) {
            throw new IllegalArgumentException(op + ": tensor " + destination.shape() + " needs "
                    + destination.byteSize() + " bytes, the host buffer has " + (source == null ? "none" : source.byteSize()));
        }
        doCopyFromHost(source, destination);
    }

    /** Copies a tensor to host memory of exactly its size, after the work queued before it finishes. */
    public final void copyToHost(Tensor source, MemorySegment destination) {
        final String op = "copyToHost";
        Checks.tensor(op, "source", source, this, source == null ? DType.F32 : source.dtype());
        if (destination == null || destination.byteSize() != source.byteSize()) {
            throw new IllegalArgumentException(op + ": tensor " + source.shape() + " has " + source.byteSize()
                    + " bytes, the host buffer " + (destination == null ? "is null" : "has " + destination.byteSize()));
        }
        if (destination.isReadOnly()) {
            throw new IllegalArgumentException(op + ": the host buffer is read-only");
        }
        doCopyToHost(source, destination);
    }

    /** Waits until all queued work has finished. */
    public abstract void synchronize();

    protected abstract void doCopy(Tensor source, Tensor destination);

    protected abstract void doCopyFromHost(MemorySegment source, Tensor destination);

    protected abstract void doCopyToHost(Tensor source, MemorySegment destination);

    // ---------------------------------------------------------------- BLAS-like kernels

    /**
     * Row-major GEMM: C = alpha · op(A) · op(B) + beta · C, where op(A) is m×k, op(B) is k×n and C
     * is m×n; each matrix starts at an element offset inside its tensor and has a leading
     * dimension (the stride between rows as stored). With beta = 0, C's old contents are ignored.
     */
    public final void gemm(Transpose transA, Transpose transB, int m, int n, int k,
                           float alpha, Tensor a, long aOffset, int lda,
                           Tensor b, long bOffset, int ldb,
                           float beta, Tensor c, long cOffset, int ldc) {
        final String op = "gemm";
        Checks.f32(op, "A", a, this);
        Checks.f32(op, "B", b, this);
        Checks.f32(op, "C", c, this);
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
        doGemm(ta, tb, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
    }

    /** Whole-tensor matrix product: C[m,n] = alpha · op(A) · op(B) + beta · C for rank-2 tensors. */
    public final void matmul(Tensor a, Transpose transA, Tensor b, Transpose transB, Tensor c, float alpha, float beta) {
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

    /** Every element of {@code tensor} ← value. */
    public final void fill(Tensor tensor, float value) {
        Checks.f32("fill", "tensor", tensor, this);
        doFill(tensor, value);
    }

    /** y ← alpha · x + y. */
    public final void axpy(float alpha, Tensor x, Tensor y) {
        Checks.f32("axpy", "x", x, this);
        Checks.f32("axpy", "y", y, this);
        Checks.sameCount("axpy", x, "x", y, "y");
        doAxpy(alpha, x, y);
    }

    /** x ← alpha · x. */
    public final void scale(Tensor x, float alpha) {
        Checks.f32("scale", "x", x, this);
        doScale(x, alpha);
    }

    /** out ← a + b, element-wise; out may be a or b. */
    public final void add(Tensor a, Tensor b, Tensor out) {
        elementwiseChecks("add", a, b, out);
        doAdd(a, b, out);
    }

    /** out ← a · b, element-wise; out may be a or b. */
    public final void mul(Tensor a, Tensor b, Tensor out) {
        elementwiseChecks("mul", a, b, out);
        doMul(a, b, out);
    }

    private void elementwiseChecks(String op, Tensor a, Tensor b, Tensor out) {
        Checks.f32(op, "a", a, this);
        Checks.f32(op, "b", b, this);
        Checks.f32(op, "out", out, this);
        Checks.sameShape(op, a, "a", b, "b");
        Checks.sameShape(op, a, "a", out, "out");
    }

    protected abstract void doGemm(boolean transA, boolean transB, int m, int n, int k,
                                   float alpha, Tensor a, long aOffset, int lda,
                                   Tensor b, long bOffset, int ldb,
                                   float beta, Tensor c, long cOffset, int ldc);

    protected abstract void doFill(Tensor tensor, float value);

    protected abstract void doAxpy(float alpha, Tensor x, Tensor y);

    protected abstract void doScale(Tensor x, float alpha);

    protected abstract void doAdd(Tensor a, Tensor b, Tensor out);

    protected abstract void doMul(Tensor a, Tensor b, Tensor out);

    // ---------------------------------------------------------------- lifecycle

    protected final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("device " + name() + " is closed");
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /** Releases the device's own resources (handles, pools). Tensors still open become unusable. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return name();
    }
}
