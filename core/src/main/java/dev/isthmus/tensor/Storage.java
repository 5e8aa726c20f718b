package dev.isthmus.tensor;

import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;

import java.lang.foreign.MemorySegment;

/**
 * A block of memory a device allocated: host memory for the CPU (a native segment of the block's
 * size), device memory for CUDA (a zero-length segment that only carries the device address;
 * Java never dereferences it). Tensors are windows on a storage; the owning tensor releases it.
 *
 * <p>A <em>planned</em> storage has a size but no memory yet: a memory plan hands it out while a
 * model is being set up, and later binds it to a window of one block it allocates for many
 * (PyTorch's meta tensors, materialised). Until then any access throws; once bound it lives and
 * dies with that block, and releasing it frees nothing.
 */
public final class Storage {
    private final Device device;
    private final long byteSize;
    private final Object release;
    private final boolean host;
    private final boolean planned;
    private MemorySegment base;
    private Storage block;
    private long offsetInBlock;
    private volatile boolean released;

    /**
     * Memory that exists now: {@code byteSize} bytes at {@code base}.
     *
     * @param release the device's own bookkeeping for freeing the block (an arena, an allocator
     * @param device the device that owns the memory
     * @param base the segment over the whole block (for device memory a pointer carrier only)
     * @param byteSize the size in bytes
     *                block), handed back to it by {@link Device#release(Storage)}
     */
    public Storage(Device device, MemorySegment base, long byteSize, Object release) {
        this(device, base, byteSize, release, false);
    }

    private Storage(Device device, MemorySegment base, long byteSize, Object release, boolean planned) {
        this.device = device;
        this.base = base;
        this.byteSize = byteSize;
        this.release = release;
        this.host = device.kind() == DeviceKind.CPU;
        this.planned = planned;
    }

    /**
     * A storage of {@code byteSize} bytes whose memory a plan provides later with {@link #bind}.
     *
     * @param device the device that owns the memory
     * @param byteSize the size in bytes
     * @return a storage of {@code byteSize} bytes whose memory a plan provides later with {@link #bind}
     */
    public static Storage planned(Device device, long byteSize) {
        return new Storage(device, null, byteSize, null, true);
    }

    /**
     * Makes this planned storage the window {@code [byteOffset, byteOffset + byteSize())} of
     * {@code block}, once.
     *
     * @param block the storage that holds this one's memory
     * @param byteOffset where the storage starts inside the block, in bytes
     */
    public void bind(Storage block, long byteOffset) {
        if (!planned || this.block != null) {
            throw new IllegalStateException("bind: only an unbound planned storage can be bound");
        }
        if (block.planned || block.device != device) {
            throw new IllegalArgumentException("bind: the block must be memory of " + device.name() + " itself");
        }
        if (byteOffset < 0 || byteOffset + byteSize > block.byteSize) {
            throw new IllegalArgumentException("bind: " + byteSize + " bytes at " + byteOffset
                    + " do not fit in a block of " + block.byteSize + " bytes");
        }
        MemorySegment whole = block.base();
        this.base = host ? whole.asSlice(byteOffset, byteSize) : MemorySegment.ofAddress(whole.address() + byteOffset);
        this.offsetInBlock = byteOffset;
        this.block = block;
    }

    /**
     * Whether a plan provides this storage's memory (bound or not yet).
     *
     * @return whether a plan provides this storage's memory (bound or not yet)
     */
    public boolean isPlanned() {
        return planned;
    }

    /** {@return whether the memory exists: not planned, or planned and bound into a block} */
    public boolean isBound() {
        return !planned || block != null;
    }

    /**
     * The allocation this storage's memory belongs to: the block it is bound into, or itself.
     *
     * @return the allocation this storage's memory belongs to: the block it is bound into, or itself
     */
    public Storage root() {
        Storage bound = block;
        return bound != null ? bound : this;
    }

    /**
     * Where this storage starts inside {@link #root()}, in bytes.
     *
     * @return where this storage starts inside {@link #root()}, in bytes
     */
    public long offsetInRoot() {
        return offsetInBlock;
    }

    /**
     * Whether {@link #base()} is the memory itself (CPU) rather than a device-address carrier.
     *
     * @return whether {@link #base()} is the memory itself (CPU) rather than a device-address carrier
     */
    public boolean isHost() {
        return host;
    }

    /** {@return the device that owns the memory} */
    public Device device() {
        return device;
    }

    /** {@return the size in bytes} */
    public long byteSize() {
        return byteSize;
    }

    /** {@return whether the memory has been freed} */
    public boolean isReleased() {
        Storage bound = block;
        return released || (bound != null && bound.isReleased());
    }

    /**
     * The segment over the whole block; for device memory a pointer carrier only.
     *
     * @return the segment over the whole block; for device memory a pointer carrier only
     */
    public MemorySegment base() {
        if (isReleased()) {
            throw new IllegalStateException("the memory of this tensor was freed (its owning tensor was closed)");
        }
        MemorySegment memory = base;
        if (memory == null) {
            throw new IllegalStateException("this tensor's memory is planned but not allocated yet (a model binds it at the"
                    + " end of build; do not use a layer's tensors while its model is being built)");
        }
        return memory;
    }

    /** {@return the device's own bookkeeping for freeing the block} */
    public Object releaseHandle() {
        return release;
    }

    /**
     * Marks the block freed; returns false when it already was. Called by the device (or a planned tensor's close) only.
     *
     * @return false when it already was
     */
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
