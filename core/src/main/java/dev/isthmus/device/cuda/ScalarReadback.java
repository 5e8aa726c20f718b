package dev.isthmus.device.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * Reads one scalar a kernel left in device memory (a reduction's result, the label-error flag)
 * through one host cell allocated when the device is made: a read allocates nothing, however
 * often gradient clipping or the NaN guard asks.
 */
final class ScalarReadback {
    /** Copies {@code bytes} from device memory into {@code host} after the work queued before it, and waits. */
    interface Transfer {
        void copyToHost(MemorySegment host, long deviceAddress, long bytes);
    }

    private final MemorySegment cell;
    private final Transfer transfer;

    ScalarReadback(SegmentAllocator allocator, Transfer transfer) {
        this.cell = allocator.allocate(Long.BYTES, Long.BYTES);
        this.transfer = transfer;
    }

    double readDouble(long deviceAddress) {
        transfer.copyToHost(cell, deviceAddress, Double.BYTES);
        return cell.get(ValueLayout.JAVA_DOUBLE, 0);
    }

    long readLong(long deviceAddress) {
        transfer.copyToHost(cell, deviceAddress, Long.BYTES);
        return cell.get(ValueLayout.JAVA_LONG, 0);
    }

    int readInt(long deviceAddress) {
        transfer.copyToHost(cell, deviceAddress, Integer.BYTES);
        return cell.get(ValueLayout.JAVA_INT, 0);
    }
}
