package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The staging buffer's growth over a fake cuMemAllocHost / cuMemFreeHost. */
class PinnedStagingTest {
    private static final class FakePinned implements PinnedStaging.PinnedMemory {
        final Arena arena = Arena.ofConfined();
        final List<MemorySegment> allocated = new ArrayList<>();
        final List<MemorySegment> freed = new ArrayList<>();
        boolean refuse;

        @Override
        public MemorySegment allocate(long bytes) {
            if (refuse) {
                throw new IllegalStateException("CUDA cuMemAllocHost failed: CUDA_ERROR_OUT_OF_MEMORY");
            }
            MemorySegment block = arena.allocate(bytes);
            allocated.add(block);
            return block;
        }

        @Override
        public void free(MemorySegment block) {
            assertTrue(freed.stream().noneMatch(f -> f.address() == block.address()), "freed twice: " + block);
            freed.add(block);
        }
    }

    @Test
    void aFailedGrowLeavesNoPointerToFreedMemory() {
        FakePinned memory = new FakePinned();
        try (PinnedStaging staging = new PinnedStaging(memory)) {
            MemorySegment first = staging.atLeast(100);
            assertEquals(1 << 20, first.byteSize());
            assertSame(first, staging.atLeast(1 << 20), "a copy that fits reuses the buffer");

            memory.refuse = true;
            assertThrows(IllegalStateException.class, () -> staging.atLeast((1 << 20) + 1));
            assertEquals(List.of(first), memory.freed);
            assertEquals(MemorySegment.NULL, staging.current(), "the freed buffer must not stay reachable");
            assertThrows(IllegalStateException.class, () -> staging.atLeast(10), "the next copy asks for a new buffer");

            memory.refuse = false;
            MemorySegment second = staging.atLeast(10);
            assertEquals(2, memory.allocated.size());
            assertSame(second, staging.current());
        }
        assertEquals(2, memory.freed.size(), "close freed the second buffer, and the first not again");
        memory.arena.close();
    }

    @Test
    void sizesArePowersOfTwoOfAtLeastOneMebibyte() {
        assertEquals(1 << 20, PinnedStaging.sizeFor(1));
        assertEquals(1 << 20, PinnedStaging.sizeFor(1 << 20));
        assertEquals(2 << 20, PinnedStaging.sizeFor((1 << 20) + 1));
        assertEquals(1L << 31, PinnedStaging.sizeFor((1L << 30) + 5));
    }
}
