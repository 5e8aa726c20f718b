package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator's bookkeeping over a fake driver that records every cuMemAlloc and cuMemFree. */
class CudaAllocatorTest {
    /** Hands out increasing addresses; refuses while {@code refuse} is set; frees are recorded. */
    private static final class FakeDriver implements CudaAllocator.DeviceMemory {
        final Set<Long> held = new HashSet<>();
        final List<Long> freed = new ArrayList<>();
        int allocations;
        boolean refuse;
        private long next = 0x7000_0000_0000L;

        @Override
        public int allocate(long bytes, long[] address) {
            if (refuse) {
                return 2; // CUDA_ERROR_OUT_OF_MEMORY
            }
            allocations++;
            address[0] = next;
            next += bytes;
            held.add(address[0]);
            return 0;
        }

        @Override
        public void free(long address) {
            assertTrue(held.remove(address), () -> "freed twice or never allocated: " + address);
            freed.add(address);
        }
    }

    @Test
    void aFreedBlockIsReusedWithoutTheDriver() {
        FakeDriver driver = new FakeDriver();
        CudaAllocator allocator = new CudaAllocator(driver);
        CudaAllocator.Block first = allocator.allocate(1000);
        assertEquals(1024, first.bytes());
        allocator.free(first);
        CudaAllocator.Block again = allocator.allocate(900);
        assertEquals(first, again);
        assertEquals(1, driver.allocations);
        assertEquals(1024, allocator.reservedBytes());
    }

    @Test
    void closeReturnsBlocksStillInUseAndCachedOnesToTheDriver() {
        FakeDriver driver = new FakeDriver();
        CudaAllocator allocator = new CudaAllocator(driver);
        CudaAllocator.Block open = allocator.allocate(4096);
        CudaAllocator.Block cached = allocator.allocate(512);
        allocator.free(cached);

        assertEquals(4096, allocator.close(), "the bytes tensors still held");
        assertTrue(driver.held.isEmpty(), () -> "left with the driver: " + driver.held);
        assertEquals(0, allocator.reservedBytes());

        // A tensor closed after its device: its block is not cached again nor freed twice.
        allocator.free(open);
        assertEquals(2, driver.freed.size());
        assertEquals(0, allocator.close(), "closing twice frees nothing more");
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> allocator.allocate(16));
        assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
    }

    @Test
    void aBlockFreedTwiceIsCachedOnce() {
        FakeDriver driver = new FakeDriver();
        CudaAllocator allocator = new CudaAllocator(driver);
        CudaAllocator.Block block = allocator.allocate(512);
        allocator.free(block);
        allocator.free(block);
        assertEquals(block, allocator.allocate(512));
        CudaAllocator.Block fresh = allocator.allocate(512);
        assertTrue(fresh.address() != block.address(), "the second allocation must not get the same block");
    }

    @Test
    void outOfMemoryEmptiesTheCacheRetriesOnceThenNamesTheSizes() {
        FakeDriver driver = new FakeDriver();
        CudaAllocator allocator = new CudaAllocator(driver);
        allocator.free(allocator.allocate(1 << 20));
        driver.refuse = true;
        OutOfMemoryError failure = assertThrows(OutOfMemoryError.class, () -> allocator.allocate(3 << 20));
        assertTrue(failure.getMessage().contains("cannot allocate 4194304 bytes"), failure.getMessage());
        assertTrue(failure.getMessage().contains("HINT: lower the batch size"), failure.getMessage());
        assertEquals(1, driver.freed.size(), "the cached block went back to the driver before the retry");
        assertEquals(0, allocator.reservedBytes());
        assertEquals(1 << 20, allocator.peakReservedBytes());
    }
}
