package dev.isthmus.device.cpu;

import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU device: tensors in native memory, GEMM through OpenBLAS, the other kernels as Java
 * loops split over the cores by {@link CpuParallel}. Loops and OpenBLAS never run at the same
 * time (the device issues one kernel after another), so the two never compete for cores.
 */
public final class CpuDevice extends Device {
    /** Vector registers are 64 bytes wide on AVX-512; aligned rows keep loads whole. */
    private static final long ALIGNMENT = 64;
    /** Below this many elements a loop is not worth splitting across threads. */
    static final int MIN_PARALLEL_ELEMENTS = 1 << 15;

    private final int threads;
    private final CpuParallel parallel;

    /** A CPU device using every available core. */
    public CpuDevice() {
        this(Runtime.getRuntime().availableProcessors());
    }

    public CpuDevice(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("CpuDevice: threads must be >= 1, got " + threads);
        }
        OpenBlas.require();
        OpenBlas.setThreads(threads);
        this.threads = threads;
        this.parallel = new CpuParallel(threads);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public DeviceKind kind() {
        return DeviceKind.CPU;
    }

    public int threads() {
        return threads;
    }

    public CpuParallel parallel() {
        return parallel;
    }

    // ---------------------------------------------------------------- memory

    @Override
    protected Storage allocateStorage(long bytes) {
        // A shared arena per block: any thread may use the tensor, and once the block is freed
        // every access through a stale segment throws instead of touching freed memory.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment = arena.allocate(bytes, ALIGNMENT);
            return new Storage(this, segment, bytes, arena);
        } catch (OutOfMemoryError | RuntimeException failure) {
            arena.close();
            throw new OutOfMemoryError("cpu: cannot allocate " + bytes + " bytes of native memory: " + failure.getMessage());
        }
    }

    @Override
    protected void freeStorage(Storage storage) {
        ((Arena) storage.releaseHandle()).close();
    }

    // ---------------------------------------------------------------- copies

    @Override
    protected void doCopy(Tensor source, Tensor destination) {
        if (source.memory().address() != destination.memory().address()) {
            MemorySegment.copy(source.memory(), 0, destination.memory(), 0, source.byteSize());
        }
    }

    @Override
    protected void doCopyFromHost(MemorySegment source, Tensor destination) {
        MemorySegment.copy(source, 0, destination.memory(), 0, destination.byteSize());
    }

    @Override
    protected void doCopyToHost(Tensor source, MemorySegment destination) {
        MemorySegment.copy(source.memory(), 0, destination, 0, source.byteSize());
    }

    @Override
    public void synchronize() {
        // Every CPU kernel has finished when its call returns.
    }

    // ---------------------------------------------------------------- kernels

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                          Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb,
                          float beta, Tensor c, long cOffset, int ldc) {
        OpenBlas.sgemm(transA, transB, m, n, k, alpha,
                at(a, aOffset), lda, at(b, bOffset), ldb, beta, at(c, cOffset), ldc);
    }

    /** The memory of {@code tensor} from element {@code offset} on. */
    private static MemorySegment at(Tensor tensor, long offset) {
        MemorySegment memory = tensor.memory();
        return offset == 0 ? memory : memory.asSlice(offset * Float.BYTES);
    }

    @Override
    protected void doFill(Tensor tensor, float value) {
        MemorySegment memory = tensor.memory();
        if (Float.floatToRawIntBits(value) == 0) {
            memory.fill((byte) 0);
            return;
        }
        int count = (int) tensor.elementCount();
        parallel.forRange(count, MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                memory.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
            }
        });
    }

    @Override
    protected void doAxpy(float alpha, Tensor x, Tensor y) {
        OpenBlas.saxpy((int) x.elementCount(), alpha, x.memory(), y.memory());
    }

    @Override
    protected void doScale(Tensor x, float alpha) {
        OpenBlas.sscal((int) x.elementCount(), alpha, x.memory());
    }

    @Override
    protected void doAdd(Tensor a, Tensor b, Tensor out) {
        MemorySegment left = a.memory();
        MemorySegment right = b.memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) a.elementCount(), MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        left.getAtIndex(ValueLayout.JAVA_FLOAT, i) + right.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        });
    }

    @Override
    protected void doMul(Tensor a, Tensor b, Tensor out) {
        MemorySegment left = a.memory();
        MemorySegment right = b.memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) a.elementCount(), MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                        left.getAtIndex(ValueLayout.JAVA_FLOAT, i) * right.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        });
    }

    @Override
    public void close() {
        super.close();
        parallel.close();
    }
}
