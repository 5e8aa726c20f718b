package dev.isthmus.tensor;

import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;

import java.lang.foreign.MemorySegment;

/**
 * A block of memory a device allocated: host memory for the CPU (a native segment of the block's
 * size), device memory for CUDA (a zero-length segment that only carries the device address;
 * Java never dereferences it). Tensors are windows on a storage; the owning tensor releases it.
 */
public final class Storage {
    private final Device device;
    private final MemorySegment base;
    private final long byteSize;
    private final Object release;
    private final boolean host;
    private volatile boolean released;

    /**
     * @param release the device's own bookkeeping for freeing the block (an arena, an allocator
     *                block), handed back to it by {@link Device#release(Storage)}
     */
    public Storage(Device device, MemorySegment base, long byteSize, Object release) {
        this.device = device;
        this.base = base;
        this.byteSize = byteSize;
        this.release = release;
        this.host = device.kind() == DeviceKind.CPU;
    }

    /** Whether {@link #base()} is the memory itself (CPU) rather than a device-address carrier. */
    public boolean isHost() {
        return host;
    }

    public Device device() {
        return device;
    }

    public long byteSize() {
        return byteSize;
    }

    public boolean isReleased() {
        return released;
    }

    /** The segment over the whole block; for device memory a pointer carrier only. */
    public MemorySegment base() {
        if (released) {
            throw new IllegalStateException("the memory of this tensor was freed (its owning tensor was closed)");
        }
        return base;
    }

    public Object releaseHandle() {
        return release;
    }

    /** Marks the block freed; returns false when it already was. Called by the device only. */
    public boolean markReleased() {
        synchronized (this) {
            if (released) {
                return false;
            }
            released = true;
            return true;
        }
    }
}
