package dev.isthmus.nn;

import dev.isthmus.device.MemoryPlan;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each per-batch buffer of a model built for inference only lives in one shared block
 * (TensorFlow Lite's arena planner, MXNet's memory sharing). Without backward, a buffer is needed
 * only from the forward step that writes it to the last step that reads it, so buffers whose
 * lifetimes do not overlap may share memory.
 *
 * <p>Lifetimes follow the forward order of the leaf layers, one step each (a residual block's
 * addition is a step after its branches): a layer's declared output ({@link Layer#allocateOutput})
 * lives from its step until its consumer's last read (the next layer; for a residual block's
 * input, its shortcut or its addition as well; for the network's output, after the forward);
 * every other buffer it allocates per batch (saved inputs, masks, pooling indices, BF16 copies,
 * oneDNN/cuDNN workspaces) only during its own step. Buffers of a layer that declares no output,
 * or of a container other than {@link Sequential} and {@link Residual}, are treated as outputs,
 * together with the layer's input (the layer may return it).
 *
 * <p>Offsets are then chosen greedily, largest buffer first, each at the lowest 256-byte aligned
 * offset clear of the buffers already placed whose lifetimes overlap its own. At any step a chain
 * holds the step's input and output and the step's own scratch; a residual block keeps its input
 * too until its shortcut has read it: with A the largest activation and W the largest per-layer
 * scratch, the live bytes never exceed 2A + W for a chain and 3A + W with residual blocks, and
 * {@link #peakLiveBytes()} is exactly the largest live total of any step (the least any sharing
 * can reach).
 */
final class InferencePlan {
    /** The buffers that may hold one value flowing between layers. */
    private record Value(List<Tensor> tensors) {
    }

    private final Map<Tensor, int[]> lifetimes = new IdentityHashMap<>();
    private final List<Tensor> order = new ArrayList<>();
    private final Map<Object, List<Tensor>> byOwner = new IdentityHashMap<>();
    private int step;
    private long[] offsets;
    private long bytes;
    private long peakLive;

    private InferencePlan() {
    }

    /**
     * Plans {@code requests}, the per-batch buffers of {@code root} (and of the model around it)
     * not bound yet, for a forward whose input is {@code input} (a planned copy of the batch, or
     * null when the caller's batch is used as it is).
     */
    static InferencePlan of(Layer root, List<MemoryPlan.Request> requests, Tensor input) {
        InferencePlan plan = new InferencePlan();
        for (MemoryPlan.Request request : requests) {
            plan.order.add(request.tensor());
            if (request.owner() != null) {
                plan.byOwner.computeIfAbsent(request.owner(), owner -> new ArrayList<>()).add(request.tensor());
            }
        }
        List<Tensor> in = new ArrayList<>();
        if (input != null && plan.isPlanned(input)) {
            plan.born(input, 0);
            in.add(input);
        }
        Value output = plan.walk(root, new Value(in));
        int after = plan.step + 1;
        plan.read(output, after);
        // Anything no layer of this network asked for lives throughout.
        for (Tensor tensor : plan.order) {
            if (!plan.lifetimes.containsKey(tensor)) {
                plan.lifetimes.put(tensor, new int[] {0, after});
            }
        }
        plan.place();
        return plan;
    }

    private boolean isPlanned(Tensor tensor) {
        for (Tensor planned : order) {
            if (planned == tensor) {
                return true;
            }
        }
        return false;
    }

    private Value walk(Layer layer, Value input) {
        if (layer instanceof Sequential sequential) {
            Value value = input;
            for (Layer child : sequential.layers()) {
                value = walk(child, value);
            }
            return value;
        }
        if (layer instanceof Residual residual) {
            Value main = walk(residual.mainBranch(), input);
            Value skip = residual.shortcut() == null ? input : walk(residual.shortcut(), input);
            int add = ++step;
            read(main, add);
            read(skip, add);
            return own(layer, add, input);
        }
        if (!layer.children().isEmpty()) {
            // A container this plan does not know: everything inside lives as long as its output.
            int at = ++step;
            read(input, at);
            List<Tensor> all = new ArrayList<>(input.tensors());
            collect(layer, all);
            for (Tensor tensor : all) {
                born(tensor, at);
            }
            return new Value(all);
        }
        int at = ++step;
        read(input, at);
        return own(layer, at, input);
    }

    /** The layer's own buffers, made at {@code at}: its output value, the rest scratch of that step. */
    private Value own(Layer layer, int at, Value input) {
        List<Tensor> mine = byOwner.getOrDefault(layer, List.of());
        for (Tensor tensor : mine) {
            born(tensor, at);
        }
        Tensor declared = layer.plannedOutput();
        boolean known = declared != null && mine.stream().anyMatch(tensor -> tensor == declared);
        if (!known) {
            List<Tensor> all = new ArrayList<>(input.tensors());
            all.addAll(mine);
            return new Value(all);
        }
        List<Tensor> value = new ArrayList<>();
        value.add(declared);
        if (layer.returnsInput()) {
            value.addAll(input.tensors());
        }
        return new Value(value);
    }

    private void collect(Layer layer, List<Tensor> into) {
        into.addAll(byOwner.getOrDefault(layer, List.of()));
        for (Layer child : layer.children().values()) {
            collect(child, into);
        }
    }

    private void born(Tensor tensor, int at) {
        int[] lifetime = lifetimes.get(tensor);
        if (lifetime == null) {
            lifetimes.put(tensor, new int[] {at, at});
        } else {
            lifetime[1] = Math.max(lifetime[1], at);
        }
    }

    private void read(Value value, int at) {
        for (Tensor tensor : value.tensors()) {
            int[] lifetime = lifetimes.get(tensor);
            if (lifetime != null) {
                lifetime[1] = Math.max(lifetime[1], at);
            }
        }
    }

    private static long aligned(long bytes) {
        return (bytes + MemoryPlan.ALIGNMENT - 1) / MemoryPlan.ALIGNMENT * MemoryPlan.ALIGNMENT;
    }

    private static boolean overlap(int[] a, int[] b) {
        return a[0] <= b[1] && b[0] <= a[1];
    }

    /** Greedy by size: each buffer at the lowest offset clear of the overlapping ones placed before it. */
    private void place() {
        int n = order.size();
        offsets = new long[n];
        Integer[] bySize = new Integer[n];
        for (int i = 0; i < n; i++) {
            bySize[i] = i;
        }
        java.util.Arrays.sort(bySize, Comparator.<Integer>comparingLong(i -> -order.get(i).byteSize())
                .thenComparingInt(i -> lifetimes.get(order.get(i))[0]).thenComparingInt(i -> i));
        List<Integer> placed = new ArrayList<>();
        for (int index : bySize) {
            Tensor tensor = order.get(index);
            int[] lifetime = lifetimes.get(tensor);
            List<long[]> taken = new ArrayList<>();
            for (int other : placed) {
                if (overlap(lifetime, lifetimes.get(order.get(other)))) {
                    taken.add(new long[] {offsets[other], offsets[other] + order.get(other).byteSize()});
                }
            }
            taken.sort(Comparator.comparingLong(range -> range[0]));
            long offset = 0;
            for (long[] range : taken) {
                if (offset + tensor.byteSize() <= range[0]) {
                    break;
                }
                offset = Math.max(offset, aligned(range[1]));
            }
            offsets[index] = offset;
            bytes = Math.max(bytes, offset + tensor.byteSize());
            placed.add(index);
        }
        for (int at = 0; at <= step + 1; at++) {
            long live = 0;
            for (Tensor tensor : order) {
                int[] lifetime = lifetimes.get(tensor);
                if (lifetime[0] <= at && at <= lifetime[1]) {
                    live += tensor.byteSize();
                }
            }
            peakLive = Math.max(peakLive, live);
        }
    }

    /** {@return the bytes of the shared block} */
    long bytes() {
        return bytes;
    }

    /** {@return the most bytes alive at one step: the least a shared block can be} */
    long peakLiveBytes() {
        return peakLive;
    }

    /** Binds every planned buffer to its window of one new block; returns the block (null when there is none). */
    Tensor bind(MemoryPlan memory) {
        return memory.bindWindows(order, offsets);
    }
}
