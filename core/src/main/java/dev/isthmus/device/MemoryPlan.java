package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Storage;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Allocation deferred, then done in one block per purpose: Caffe's Net and llm.c allocate a
 * network's memory once, PyTorch materialises meta tensors. While a plan records on a device,
 * every {@link Device#allocate} made by the thread that opened it returns a tensor with a size
 * but no memory yet (layers and their device plans ask as they always do, unaware). When all have
 * asked, {@link #bind} makes one block for a list of those tensors, back to back in that order,
 * and {@link #bindRemaining} one block for the rest; each planned tensor becomes a window on its
 * block and is freed with it. Using a planned tensor's memory before it is bound throws.
 *
 * <p>What is allocated inside {@link #longLived} (parameters, running statistics) is kept apart
 * from the rest (activations, workspaces), so a model can plan its per-batch memory again for a
 * new batch size while its parameters stay where they are.
 */
public final class MemoryPlan implements AutoCloseable {
    /** Between the starts of the remaining tensors, in bytes: AVX-512 rows and cuDNN both want this divided. */
    public static final long ALIGNMENT = 256;

    private record Entry(Tensor tensor, boolean longLived, Object owner) {
    }

    /**
     * A per-batch tensor asked for while recording, with what asked for it.
     *
     * @param tensor the planned tensor, not bound yet
     * @param owner the innermost owner ({@link #owned}) whose allocation was running, or null
     */
    public record Request(Tensor tensor, Object owner) {
    }

    private final Device device;
    private final Thread owner;
    private final Map<Tensor, Entry> unbound = new IdentityHashMap<>();
    private final List<Entry> requests = new ArrayList<>();
    private final List<Runnable> afterBinding = new ArrayList<>();
    private boolean longLived;
    private Object currentOwner;
    private boolean recording = true;
    private boolean closed;

    private MemoryPlan(Device device) {
        this.device = device;
        this.owner = Thread.currentThread();
    }

    /**
     * Starts recording the calling thread's allocations on {@code device}.
     *
     * @param device the device
     * @return the plan; close it (or allocate) to stop recording
     * @throws IllegalStateException when a plan already records on it
     */
    public static MemoryPlan record(Device device) {
        if (device == null) {
            throw new IllegalArgumentException("memory plan: device is null");
        }
        device.ensureOpen();
        MemoryPlan plan = new MemoryPlan(device);
        device.startPlanning(plan);
        return plan;
    }

    /**
     * Runs {@code allocation}, marking what it allocates on {@code device} as living as long as
     * its owner (parameters, running statistics), apart from per-batch buffers. Without a plan
     * recording, it simply runs.
     *
     * @param device the device
     * @param allocation the allocation
     */
    public static void longLived(Device device, Runnable allocation) {
        MemoryPlan plan = device.planning();
        if (plan == null || !plan.records()) {
            allocation.run();
            return;
        }
        boolean outer = plan.longLived;
        plan.longLived = true;
        try {
            allocation.run();
        } finally {
            plan.longLived = outer;
        }
    }

    /**
     * Runs {@code allocation}, recording {@code owner} (a layer) as what asked for each tensor it
     * allocates on {@code device} (an inner call's owner wins for its own allocations), so that a
     * plan can tell whose buffers live how long ({@link #perBatchRequests}). Without a plan
     * recording, it simply runs.
     *
     * @param device the device
     * @param owner what the allocations belong to
     * @param allocation the allocation
     */
    public static void owned(Device device, Object owner, Runnable allocation) {
        MemoryPlan plan = device.planning();
        if (plan == null || !plan.records()) {
            allocation.run();
            return;
        }
        Object outer = plan.currentOwner;
        plan.currentOwner = owner;
        try {
            allocation.run();
        } finally {
            plan.currentOwner = outer;
        }
    }

    /**
     * Runs {@code action} once the memory allocated so far on {@code device} exists: now when no
     * plan records, else when the plan has bound everything (to give planned tensors first values).
     *
     * @param device the device
     * @param action what to run
     */
    public static void whenBound(Device device, Runnable action) {
        MemoryPlan plan = device.planning();
        if (plan == null || !plan.records()) {
            action.run();
        } else {
            plan.afterBinding.add(action);
        }
    }

    /** Whether allocate() of the calling thread is deferred into this plan. */
    boolean records() {
        return recording && Thread.currentThread() == owner;
    }

    Tensor reserve(Shape shape, DType dtype, Layout layout) {
        Tensor tensor = Tensor.owning(Storage.planned(device, shape.elementCount() * dtype.byteSize()), shape, dtype, layout);
        Entry entry = new Entry(tensor, longLived, currentOwner);
        unbound.put(tensor, entry);
        requests.add(entry);
        return tensor;
    }

    /**
     * Bytes that {@link #bindRemaining} would take now for one lifetime, leaving out {@code excluded}
     * (tensors to be bound by {@link #bind} instead): what admission adds up before anything exists.
     *
     * @param longLivedTensors true for the long-lived tensors, false for the per-batch ones
     * @param excluded tensors not to count
     * @return the bytes, with each tensor's 256-byte alignment
     */
    public long unboundBytes(boolean longLivedTensors, java.util.Collection<Tensor> excluded) {
        ensureOpen();
        java.util.Set<Tensor> skip = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        skip.addAll(excluded);
        long bytes = 0;
        for (Entry entry : requests) {
            if (entry.longLived == longLivedTensors && unbound.containsKey(entry.tensor) && !entry.tensor.isClosed()
                    && !skip.contains(entry.tensor)) {
                bytes = aligned(bytes) + entry.tensor.byteSize();
            }
        }
        return bytes;
    }

    /**
     * The per-batch tensors (not {@link #longLived}) not bound yet and still open, in the order
     * they were asked for, each with its owner ({@link #owned}).
     *
     * @return the requests
     */
    public List<Request> perBatchRequests() {
        ensureOpen();
        List<Request> chosen = new ArrayList<>();
        for (Entry entry : requests) {
            if (!entry.longLived && unbound.containsKey(entry.tensor) && !entry.tensor.isClosed()) {
                chosen.add(new Request(entry.tensor, entry.owner));
            }
        }
        return chosen;
    }

    /**
     * Gives up on memory for {@code tensors}: they are never bound, and using one throws (an
     * inference-only model's parameter gradients).
     *
     * @param tensors tensors this plan handed out and has not bound yet
     */
    public void forgo(java.util.Collection<Tensor> tensors) {
        ensureOpen();
        for (Tensor tensor : tensors) {
            if (tensor == null || !unbound.containsKey(tensor)) {
                throw new IllegalArgumentException("memory plan: " + tensor + " is not an unbound tensor of this plan");
            }
        }
        for (Tensor tensor : tensors) {
            unbound.remove(tensor);
        }
    }

    /**
     * One block in which each of {@code tensors} is the window starting at its offset: windows
     * may overlap (tensors that are never alive at the same time share memory), which the caller
     * has decided. The block is as long as the furthest window's end.
     *
     * @param tensors tensors this plan handed out and has not bound yet
     * @param offsets each tensor's byte offset in the block, a multiple of 256
     * @return the block, or null when the list is empty
     */
    public Tensor bindWindows(List<Tensor> tensors, long[] offsets) {
        ensureOpen();
        if (offsets == null || offsets.length != tensors.size()) {
            throw new IllegalArgumentException("memory plan: " + tensors.size() + " tensors need as many offsets, got "
                    + (offsets == null ? "none" : offsets.length));
        }
        if (tensors.isEmpty()) {
            return null;
        }
        long bytes = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor tensor = tensors.get(i);
            if (tensor == null || !unbound.containsKey(tensor) || tensor.storage().byteSize() != tensor.byteSize()) {
                throw new IllegalArgumentException("memory plan: " + tensor + " is not a whole unbound tensor of this plan");
            }
            if (offsets[i] < 0 || offsets[i] % ALIGNMENT != 0) {
                throw new IllegalArgumentException("memory plan: offset " + offsets[i] + " of " + tensor
                        + " is not a non-negative multiple of " + ALIGNMENT);
            }
            bytes = Math.max(bytes, offsets[i] + tensor.byteSize());
        }
        Tensor block = allocateBlock(device, bytes);
        for (int i = 0; i < tensors.size(); i++) {
            tensors.get(i).storage().bind(block.storage(), offsets[i]);
            unbound.remove(tensors.get(i));
        }
        return block;
    }

    /**
     * One block holding {@code tensors} back to back, in this order, with no gap between them.
     *
     * @param tensors tensors this plan handed out and has not bound yet
     * @return the block, as one flat F32 tensor over all of them; null for an empty list
     */
    public Tensor bind(List<Tensor> tensors) {
        ensureOpen();
        if (tensors.isEmpty()) {
            return null;
        }
        long bytes = 0;
        for (Tensor tensor : tensors) {
            Entry entry = tensor == null ? null : unbound.get(tensor);
            if (entry == null) {
                throw new IllegalArgumentException("memory plan: " + tensor + " is not an unbound tensor of this plan");
            }
            bytes += tensor.byteSize();
        }
        Tensor block = allocateBlock(device, bytes);
        long offset = 0;
        for (Tensor tensor : tensors) {
            tensor.storage().bind(block.storage(), offset);
            unbound.remove(tensor);
            offset += tensor.byteSize();
        }
        return block;
    }

    /**
     * One block for every tensor not bound yet of the given lifetime ({@link #longLived} or not),
     * in the order they were asked for, each starting on a 256-byte boundary; tensors closed
     * before binding get no space.
     *
     * @param longLivedTensors true for the long-lived tensors (parameters, statistics), false for the per-batch ones
     * @return the block, or null when there is nothing to bind
     */
    public Tensor bindRemaining(boolean longLivedTensors) {
        ensureOpen();
        List<Tensor> chosen = new ArrayList<>();
        for (Entry entry : requests) {
            if (entry.longLived == longLivedTensors && unbound.containsKey(entry.tensor) && !entry.tensor.isClosed()) {
                chosen.add(entry.tensor);
            }
        }
        for (Tensor tensor : chosen) {
            unbound.remove(tensor);
        }
        return allocate(device, chosen);
    }

    /**
     * One new block for {@code tensors}, tensors with memory to come ({@link Storage#planned}, not
     * bound yet), each starting on a 256-byte boundary, in this order; a plan recording on the
     * device does not record it.
     *
     * @param device the device
     * @param tensors planned tensors, not bound yet
     * @return the block, or null when the list is empty
     */
    public static Tensor allocate(Device device, List<Tensor> tensors) {
        if (tensors.isEmpty()) {
            return null;
        }
        long bytes = 0;
        for (Tensor tensor : tensors) {
            if (!tensor.storage().isPlanned() || tensor.storage().isBound() || tensor.storage().byteSize() != tensor.byteSize()) {
                throw new IllegalArgumentException("memory plan: " + tensor + " is not a whole planned tensor without memory");
            }
            bytes = aligned(bytes) + tensor.byteSize();
        }
        Tensor block = allocateBlock(device, bytes);
        long offset = 0;
        for (Tensor tensor : tensors) {
            offset = aligned(offset);
            tensor.storage().bind(block.storage(), offset);
            offset += tensor.byteSize();
        }
        return block;
    }

    private static long aligned(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** A block of {@code bytes} (zero for tensors without elements: they still get a window). */
    private static Tensor allocateBlock(Device device, long bytes) {
        // The block itself is real memory: a plan recording on the device pauses while it is allocated.
        MemoryPlan plan = device.planning();
        boolean recording = plan != null && plan.recording;
        if (recording) {
            plan.recording = false;
        }
        try {
            return device.allocate(Shape.of(Math.toIntExact((bytes + DType.F32.byteSize() - 1) / DType.F32.byteSize())));
        } finally {
            if (recording) {
                plan.recording = true;
            }
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("memory plan on " + device.name() + " is closed");
        }
    }

    /**
     * Stops recording. When every planned tensor still open was bound, runs the actions waiting
     * for memory ({@link #whenBound}); tensors never bound stay unusable.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        recording = false;
        device.stopPlanning(this);
        boolean complete = true;
        for (Tensor tensor : unbound.keySet()) {
            complete &= tensor.isClosed();
        }
        if (complete) {
            for (Runnable action : afterBinding) {
                action.run();
            }
        }
    }
}
