package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A caching allocator for device memory: sizes are rounded up to a size class (powers of two
 * from 512 bytes, then 2 MiB steps above 8 MiB), and a freed block goes back to its class's free
 * list instead of to cuMemFree, so a training step that frees and allocates the same sizes never
 * reaches the driver. Blocks go back to the driver on {@link #releaseCached} and at {@link #close},
 * which also frees the blocks still in use (tensors and plans left open when their device closed):
 * closing them later changes nothing.
 */
final class CudaAllocator {
    /** A block of device memory of one size class. */
    record Block(long address, long bytes) {
    }

    /** The two driver calls the allocator makes, behind an interface so that its bookkeeping can be tested without a GPU. */
    interface DeviceMemory {
        /** cuMemAlloc: 0 with the block's address in {@code address[0]}, or the driver's error status. */
        int allocate(long bytes, long[] address);

        /** cuMemFree. */
        void free(long address);
    }

    /** The CUDA driver, in the calling thread's current context. */
    static final DeviceMemory DRIVER = new DeviceMemory() {
        @Override
        public int allocate(long bytes, long[] address) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment pointer = arena.allocate(ValueLayout.JAVA_LONG);
                int status = cuda_h.cuMemAlloc_v2(pointer, bytes);
                address[0] = pointer.get(ValueLayout.JAVA_LONG, 0);
                return status;
            }
        }

        @Override
        public void free(long address) {
            cuda_h.cuMemFree_v2(address);
        }
    };

    private final DeviceMemory memory;
    private final Map<Long, List<Block>> free = new HashMap<>();
    private final Set<Block> inUse = new HashSet<>();
    private long reserved;
    private long peakReserved;
    private boolean closed;

    CudaAllocator(DeviceMemory memory) {
        this.memory = memory;
    }

    static long sizeClass(long bytes) {
        long wanted = Math.max(512, bytes);
        if (wanted <= 8L << 20) {
            return Long.highestOneBit(wanted - 1) << 1;
        }
        long step = 2L << 20;
        return (wanted + step - 1) / step * step;
    }

    synchronized Block allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("cuda: cannot allocate " + bytes + " bytes: the device is closed");
        }
        long size = sizeClass(bytes);
        List<Block> blocks = free.get(size);
        Block block;
        if (blocks != null && !blocks.isEmpty()) {
            block = blocks.removeLast();
        } else {
            long[] address = new long[1];
            int status = memory.allocate(size, address);
            if (status != 0) {
                // Out of memory: give the cache back to the driver and try once more.
                releaseCached();
                status = memory.allocate(size, address);
            }
            if (status != 0) {
                throw new CudaOutOfMemoryError(size, reserved, CudaDriver.errorName(status) + ": " + CudaDriver.errorString(status));
            }
            reserved += size;
            peakReserved = Math.max(peakReserved, reserved);
            block = new Block(address[0], size);
        }
        inUse.add(block);
        return block;
    }

    /**
     * Puts a block back in the cache. After {@link #close} it does nothing: close returned the block
     * to the driver already, and the cache is gone.
     */
    synchronized void free(Block block) {
        if (!closed && inUse.remove(block)) {
            free.computeIfAbsent(block.bytes(), k -> new ArrayList<>()).add(block);
        }
    }

    /** Returns every cached free block to the driver. */
    synchronized void releaseCached() {
        for (List<Block> blocks : free.values()) {
            for (Block block : blocks) {
                memory.free(block.address());
                reserved -= block.bytes();
            }
            blocks.clear();
        }
    }

    /**
     * Returns every block to the driver, cached or still in use, and refuses allocations from then
     * on. The device's stream must be idle. Returns the bytes that were still in use.
     */
    synchronized long close() {
        if (closed) {
            return 0;
        }
        releaseCached();
        long stillInUse = 0;
        for (Block block : inUse) {
            memory.free(block.address());
            stillInUse += block.bytes();
        }
        reserved -= stillInUse;
        inUse.clear();
        closed = true;
        return stillInUse;
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
