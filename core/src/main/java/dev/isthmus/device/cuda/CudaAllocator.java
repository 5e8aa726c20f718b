package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A caching allocator for device memory: sizes are rounded up to a size class (powers of two
 * from 512 bytes, then 2 MiB steps above 8 MiB), and a freed block goes back to its class's free
 * list instead of to cuMemFree, so a training step that frees and allocates the same sizes never
 * reaches the driver. Blocks go back to the driver only when the device closes (or on
 * {@link #releaseCached}), which keeps cuMemFree's implicit synchronisation out of the step.
 */
final class CudaAllocator {
    /** A block of device memory of one size class. */
    record Block(long address, long bytes) {
    }

    private final Map<Long, List<Block>> free = new HashMap<>();
    private long reserved;
    private long peakReserved;


    static long sizeClass(long bytes) {
        long wanted = Math.max(512, bytes);
        if (wanted <= 8L << 20) {
            return Long.highestOneBit(wanted - 1) << 1;
        }
        long step = 2L << 20;
        return (wanted + step - 1) / step * step;
    }

    synchronized Block allocate(long bytes) {
        long size = sizeClass(bytes);
        List<Block> blocks = free.get(size);
        if (blocks != null && !blocks.isEmpty()) {
            return blocks.removeLast();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(ValueLayout.JAVA_LONG);
            int status = cuda_h.cuMemAlloc_v2(pointer, size);
            if (status != 0) {
                // Out of memory: give the cache back to the driver and try once more.
                releaseCached();
                status = cuda_h.cuMemAlloc_v2(pointer, size);
            }
            if (status != 0) {
                throw new CudaOutOfMemoryError(size, reserved, CudaDriver.errorName(status) + ": " + CudaDriver.errorString(status));
            }
            reserved += size;
            peakReserved = Math.max(peakReserved, reserved);
            return new Block(pointer.get(ValueLayout.JAVA_LONG, 0), size);
        }
    }

    synchronized void free(Block block) {
        free.computeIfAbsent(block.bytes(), k -> new ArrayList<>()).add(block);
    }

    /** Returns every cached free block to the driver. */
    synchronized void releaseCached() {
        for (List<Block> blocks : free.values()) {
            for (Block block : blocks) {
                cuda_h.cuMemFree_v2(block.address());
                reserved -= block.bytes();
            }
            blocks.clear();
        }
    }

    /** Device bytes held from the driver, in use or cached. */
    synchronized long reservedBytes() {
        return reserved;
    }

    synchronized long peakReservedBytes() {
        return peakReserved;
    }

    /** Thrown when the GPU has no room even after the cache is emptied. */
    static final class CudaOutOfMemoryError extends OutOfMemoryError {
        CudaOutOfMemoryError(long bytes, long reserved, String reason) {
            super("cuda: cannot allocate " + bytes + " bytes of device memory (" + reserved + " bytes held already): "
                    + reason + ". HINT: lower the batch size.");
        }
    }
}
