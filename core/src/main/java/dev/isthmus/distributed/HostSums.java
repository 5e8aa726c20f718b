package dev.isthmus.distributed;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Sums of host values over the ranks (the epoch's figures, SyncBatchNorm's batch statistics)
 * through a native buffer kept for the purpose and grown only when a longer sum comes, so a sum
 * made every step allocates nothing. Shared by the MPI and NCCL process groups: both sum host
 * values over MPI, under the watchdog.
 */
final class HostSums implements AutoCloseable {
    private final MpiCommunicator world;
    private final CollectiveWatchdog watchdog;
    private final Arena arena = Arena.ofShared();
    private MemorySegment buffer = MemorySegment.NULL;

    HostSums(MpiCommunicator world, CollectiveWatchdog watchdog) {
        this.world = world;
        this.watchdog = watchdog;
    }

    /**
     * Replaces {@code values} by their sums over the ranks (MPI_Allreduce of MPI_DOUBLE).
     *
     * @param values      this rank's values, not empty (the caller checks, naming itself)
     * @param description what the sum is, for the watchdog's message
     */
    void sumInPlace(double[] values, String description) {
        if (buffer.byteSize() < (long) values.length * Double.BYTES) {
            // At least doubling, so a slowly growing length does not allocate again and again.
            long doubles = Math.max(values.length, 2 * buffer.byteSize() / Double.BYTES);
            buffer = arena.allocate(doubles * Double.BYTES, Double.BYTES);
        }
        MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_DOUBLE, 0, values.length);
        try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, description)) {
            world.allReduceSumDoubles(buffer, values.length);
        }
        MemorySegment.copy(buffer, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
    }

    /** Frees the buffer. */
    @Override
    public void close() {
        arena.close();
    }
}
