package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The pinned host buffer that copies between host and device go through, grown (to the next power
 * of two, at least 1 MiB) when a copy needs more. The field is cleared as soon as the old buffer is
 * freed, so a failed grow leaves no pointer to freed memory for the next copy to write into, nor
 * for {@link #close} to free twice.
 */
final class PinnedStaging implements AutoCloseable {
    /** The two driver calls, behind an interface so that the growing can be tested without a GPU. */
    interface PinnedMemory {
        /** cuMemAllocHost: a block of exactly {@code bytes}; throws when the driver refuses. */
        MemorySegment allocate(long bytes);

        /** cuMemFreeHost. */
        void free(MemorySegment block);
    }

    static final PinnedMemory DRIVER = new PinnedMemory() {
        @Override
        public MemorySegment allocate(long bytes) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                CudaDriver.check(cuda_h.cuMemAllocHost_v2(out, bytes), "cuMemAllocHost (" + bytes + " bytes of staging)");
                return out.get(ValueLayout.ADDRESS, 0).reinterpret(bytes);
            }
        }

        @Override
        public void free(MemorySegment block) {
            cuda_h.cuMemFreeHost(block);
        }
    };

    private final PinnedMemory memory;
    private MemorySegment buffer = MemorySegment.NULL;

    PinnedStaging(PinnedMemory memory) {
        this.memory = memory;
    }

    /** At least {@code bytes} of pinned memory; the caller has waited for the last copy from it to finish. */
    MemorySegment atLeast(long bytes) {
        if (buffer.byteSize() < bytes) {
            release();
            buffer = memory.allocate(sizeFor(bytes));
        }
        return buffer;
    }

    /** The buffer held now: {@link MemorySegment#NULL} before the first copy and after a failed grow. */
    MemorySegment current() {
        return buffer;
    }

    static long sizeFor(long bytes) {
        return Math.max(1L << 20, Long.highestOneBit(Math.max(1, bytes - 1)) << 1);
    }

    private void release() {
        MemorySegment old = buffer;
        buffer = MemorySegment.NULL;
        if (!old.equals(MemorySegment.NULL)) {
            memory.free(old);
        }
    }

    @Override
    public void close() {
        release();
    }
}
