package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cuBLAS axpy/scal count in an int: vectors beyond 2^31-1 elements are cut into chunks that tile them exactly. */
class ElementChunksTest {
    @Test
    void chunksTileEveryLengthExactly() {
        long[] totals = {0, 1, ElementChunks.MAX - 1L, ElementChunks.MAX, ElementChunks.MAX + 1L, Integer.MAX_VALUE,
                Integer.MAX_VALUE + 1L, 5_000_000_000L, 3L * ElementChunks.MAX};
        for (long total : totals) {
            long covered = 0;
            long chunks = ElementChunks.count(total);
            for (long chunk = 0; chunk < chunks; chunk++) {
                assertEquals(covered, ElementChunks.start(chunk), "chunk " + chunk + " of " + total + " starts where the last ended");
                int length = ElementChunks.length(total, chunk);
                assertTrue(length > 0 && length <= ElementChunks.MAX, "chunk " + chunk + " of " + total + ": " + length);
                covered += length;
            }
            assertEquals(total, covered, "elements covered of " + total);
        }
    }

    @Test
    void lengthsAboveTheIntLimitAreSplit() {
        long total = Integer.MAX_VALUE + 1L;
        assertEquals(2, ElementChunks.count(total));
        assertEquals(1 << 30, ElementChunks.length(total, 0));
        assertEquals(1 << 30, ElementChunks.length(total, 1));
        assertEquals(1, ElementChunks.count(Integer.MAX_VALUE / 2));
        assertEquals(0, ElementChunks.count(0));
    }

    @Test
    void smallChunksShowTheShapeOfTheSplit() {
        assertEquals(3, ElementChunks.count(10, 4));
        assertEquals(4, ElementChunks.length(10, 0, 4));
        assertEquals(4, ElementChunks.length(10, 1, 4));
        assertEquals(2, ElementChunks.length(10, 2, 4));
        assertEquals(8, ElementChunks.start(2, 4));
    }
}
