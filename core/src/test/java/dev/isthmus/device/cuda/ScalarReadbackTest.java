package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reductions are read through one host cell allocated up front: gradient clipping reads one per
 * parameter per step, and each read used to allocate from the device's long-lived arena.
 */
class ScalarReadbackTest {
    @Test
    void readsAllocateNothingAfterTheFirstCell() {
        try (Arena arena = Arena.ofConfined()) {
            int[] allocations = {0};
            SegmentAllocator counting = (bytes, alignment) -> {
                allocations[0]++;
                return arena.allocate(bytes, alignment);
            };
            Set<Long> cells = new HashSet<>();
            long[] copies = {0};
            ScalarReadback readback = new ScalarReadback(counting, (host, deviceAddress, bytes) -> {
                // The fake device memory holds at each address the address itself, as a double, long or int.
                cells.add(host.address());
                copies[0]++;
                switch ((int) bytes) {
                    case 8 -> host.set(ValueLayout.JAVA_LONG, 0, deviceAddress);
                    case 4 -> host.set(ValueLayout.JAVA_INT, 0, (int) deviceAddress);
                    default -> throw new AssertionError("unexpected size " + bytes);
                }
            });
            assertEquals(1, allocations[0]);
            for (int i = 0; i < 10_000; i++) {
                assertEquals(i, readback.readLong(i));
                assertEquals(-i, readback.readInt(-i));
            }
            assertEquals(Double.longBitsToDouble(42), readback.readDouble(42));
            assertEquals(1, allocations[0], "a read must not allocate");
            assertEquals(1, cells.size(), "every read goes through the same cell");
            assertEquals(20_001, copies[0]);
            assertEquals(0, cells.iterator().next() % 8, "the cell is 8-byte aligned");
        }
    }
}
