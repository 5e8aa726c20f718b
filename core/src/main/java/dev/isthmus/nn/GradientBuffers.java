package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The input-gradient buffers of a model, shared between its layers (Caffe shares "diff" blobs the
 * same way). During backward a gradient is read by exactly one layer, which writes the next one:
 * so two buffers per shape suffice for a chain of layers, instead of one per layer. A layer asks
 * for a buffer other than the one it is reading; a residual block pins the gradients it still
 * needs while its branches run. Buffers are made on first demand (the first backward) and reused
 * every step after, so neither an inference-only model nor a steady-state step allocates.
 */
public final class GradientBuffers implements AutoCloseable {
    /** The buffers of one shape and layout, with when each was last handed out. */
    private static final class Pool {
        final Device device;
        final Shape shape;
        final Layout layout;
        final List<Tensor> buffers = new ArrayList<>(4);
        long[] issued = new long[4];

        Pool(Device device, Shape shape, Layout layout) {
            this.device = device;
            this.shape = shape;
            this.layout = layout;
        }

        boolean holds(Device d, Shape s, Layout l) {
            return device == d && layout == l && shape.equals(s);
        }
    }

    // Lists scanned in place of maps: a lookup in the training step must not allocate a key.
    private final List<Pool> pools = new ArrayList<>();
    private final List<Tensor> pinned = new ArrayList<>();
    private long clock;

    /**
     * A buffer of this shape and layout that shares no memory with {@code reading} or any pinned
     * gradient; the least recently handed out of those that qualify.
     */
    Tensor acquire(Device device, Shape shape, Layout layout, Tensor reading) {
        Pool pool = null;
        for (int i = 0; i < pools.size() && pool == null; i++) {
            if (pools.get(i).holds(device, shape, layout)) {
                pool = pools.get(i);
            }
        }
        if (pool == null) {
            pool = new Pool(device, shape, layout);
            pools.add(pool);
        }
        int chosen = -1;
        for (int i = 0; i < pool.buffers.size(); i++) {
            if (!busy(pool.buffers.get(i), reading) && (chosen < 0 || pool.issued[i] < pool.issued[chosen])) {
                chosen = i;
            }
        }
        if (chosen < 0) {
            pool.buffers.add(device.allocate(shape, dev.isthmus.tensor.DType.F32, layout));
            chosen = pool.buffers.size() - 1;
            if (chosen >= pool.issued.length) {
                pool.issued = java.util.Arrays.copyOf(pool.issued, pool.issued.length * 2);
            }
        }
        pool.issued[chosen] = ++clock;
        return pool.buffers.get(chosen);
    }

    private boolean busy(Tensor candidate, Tensor reading) {
        if (reading != null && candidate.sharesMemoryWith(reading)) {
            return true;
        }
        for (int i = 0; i < pinned.size(); i++) {
            if (candidate.sharesMemoryWith(pinned.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** Keeps {@code gradient} from being handed out until {@link #unpin}. */
    void pin(Tensor gradient) {
        pinned.add(gradient);
    }

    void unpin(Tensor gradient) {
        for (int i = pinned.size() - 1; i >= 0; i--) {
            if (pinned.get(i) == gradient) {
                pinned.remove(i);
                return;
            }
        }
    }

    /** Bytes held, for tests and reports. */
    public long bytes() {
        long bytes = 0;
        for (Pool pool : pools) {
            for (Tensor tensor : pool.buffers) {
                bytes += tensor.byteSize();
            }
        }
        return bytes;
    }

    @Override
    public void close() {
        for (Pool pool : pools) {
            for (Tensor tensor : pool.buffers) {
                tensor.close();
            }
        }
        pools.clear();
        pinned.clear();
    }
}
