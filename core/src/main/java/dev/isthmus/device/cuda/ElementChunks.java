package dev.isthmus.device.cuda;

/**
 * cuBLAS's level-1 routines (axpy, scal) count elements in an {@code int}: a longer vector is
 * processed in chunks of at most {@link #MAX} elements, chunk i starting at element i · MAX. MAX is
 * a power of two, so every chunk starts 4 GiB-aligned relative to the first.
 */
final class ElementChunks {
    static final int MAX = 1 << 30;

    private ElementChunks() {
    }

    /** How many chunks cover {@code total} elements (0 for none). */
    static long count(long total) {
        return count(total, MAX);
    }

    static long count(long total, int max) {
        return (total + max - 1) / max;
    }

    /** The first element of chunk {@code index}. */
    static long start(long index) {
        return start(index, MAX);
    }

    static long start(long index, int max) {
        return index * max;
    }

    /** The element count of chunk {@code index} of {@code total}: MAX, or what is left for the last. */
    static int length(long total, long index) {
        return length(total, index, MAX);
    }

    static int length(long total, long index, int max) {
        return (int) Math.min(max, total - start(index, max));
    }
}
