package dev.isthmus.distributed;

import dev.isthmus.device.DeviceKind;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.LayerHook;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Gradient averaging as DistributedDataParallel does it: the gradient block is cut into buckets
 * of about {@code bucketBytes}, in reverse parameter order (the order backward produces them),
 * and each bucket's sum all-reduce starts as soon as the backward of every layer owning a
 * parameter in it has finished, while backward goes on with the earlier layers. At the end of
 * backward, {@link #finish} starts what is left (frozen layers whose backward never ran), waits,
 * and scales the block by 1/N.
 *
 * <p><b>Why a thread.</b> Open MPI progresses a non-blocking collective only while some thread is
 * inside the library, so MPI_Iallreduce started from a hook would mostly run at MPI_Wait, after
 * backward. A communication thread that calls the blocking MPI_Allreduce bucket after bucket keeps
 * the transfer going while the training thread computes. MPI was initialised at
 * MPI_THREAD_SERIALIZED: the training thread makes no MPI call while buckets are in flight
 * ({@link #finish} returns only when the thread is idle).
 *
 * <p><b>Order.</b> Every rank must start the same all-reduces in the same order. Buckets become
 * ready in an order fixed by the model's code, the same on every rank; what {@link #finish} starts
 * is started in bucket order.
 *
 * <p>The steady state allocates nothing: the bucket slices are made here, the hand-off is an int
 * array and two volatile counters.
 */
public final class GradientBuckets implements LayerHook, AutoCloseable {
    private static final long LIVENESS_CHECK_NANOS = 50_000_000L;

    private final Model model;
    private final MpiCommunicator world;
    private final CollectiveWatchdog watchdog;
    private final Tensor block;
    private final MemorySegment[] slices;
    private final long[] bucketFloats;
    private final int[] parametersPerBucket;
    private final Map<Layer, int[]> bucketsOfLayer = new IdentityHashMap<>();
    private final int[] pending;
    private final boolean[] started;
    private final int[] startOrder;
    private final Thread thread;

    // The hand-off: the training thread writes startOrder[posted % n] then increments `posted`; the
    // communication thread reduces buckets until `completed` reaches it. Both only grow, so a
    // slow wake-up can never mistake one step's buckets for another's; a slot is reused only
    // after finish() has seen it completed.
    private volatile long posted;
    private volatile long completed;
    private volatile Throwable failure;
    private volatile boolean stopping;
    private volatile Thread waiter;

    // Statistics (the communication thread writes communicationNanos; read after finish()).
    private volatile long communicationNanos;
    private long exposedNanos;
    private long steps;

    /**
     * Buckets of {@code model}'s gradient block, hooked into its backward.
     *
     * @param model       the model, built on the CPU, with its gradients in one block
     * @param world       the communicator
     * @param bucketBytes the size a bucket grows to (the last parameter may take it over); DDP's default is 25 MB
     * @param watchdog    ends the job when an all-reduce does not finish in time; may be null
     */
    public GradientBuckets(Model model, MpiCommunicator world, long bucketBytes, CollectiveWatchdog watchdog) {
        if (model == null || world == null) {
            throw new IllegalArgumentException("GradientBuckets: model and communicator are required");
        }
        if (bucketBytes < Float.BYTES) {
            throw new IllegalArgumentException("GradientBuckets: bucket size " + bucketBytes + " bytes is below one float");
        }
        this.block = model.gradientBlock();
        if (block == null || block.device().kind() != DeviceKind.CPU || block.dtype() != DType.F32) {
            throw new IllegalArgumentException("GradientBuckets: " + model.name() + " must be built on the CPU with its F32 "
                    + "gradients in one block (MPI reads host memory)" + (block == null ? "; it has no gradient block" : ""));
        }
        this.model = model;
        this.world = world;
        this.watchdog = watchdog;
        List<long[]> ranges = plan(model, block, bucketBytes);
        int buckets = ranges.size();
        this.slices = new MemorySegment[buckets];
        this.bucketFloats = new long[buckets];
        this.parametersPerBucket = new int[buckets];
        MemorySegment memory = block.memory();
        for (int b = 0; b < buckets; b++) {
            long[] range = ranges.get(b);
            bucketFloats[b] = range[1] - range[0];
            slices[b] = memory.asSlice(range[0] * Float.BYTES, bucketFloats[b] * Float.BYTES);
            parametersPerBucket[b] = (int) range[2];
        }
        mapLayers(model, ranges);
        this.pending = parametersPerBucket.clone();
        this.started = new boolean[buckets];
        this.startOrder = new int[buckets];
        this.thread = new Thread(this::communicate, "isthmus-allreduce");
        thread.setDaemon(true);
        thread.start();
        model.addHook(this);
    }

    /**
     * The buckets, from the last parameter backwards: each {from float, to float, parameters}, a
     * contiguous range of the block (alignment gaps between parameters included).
     */
    private static List<long[]> plan(Model model, Tensor block, long bucketBytes) {
        List<Parameter> parameters = model.parameters();
        long base = block.memory().address();
        List<long[]> ranges = new ArrayList<>();
        long to = -1;
        long from = -1;
        int count = 0;
        for (int i = parameters.size() - 1; i >= 0; i--) {
            Tensor grad = parameters.get(i).grad();
            long start = (grad.memory().address() - base) / Float.BYTES;
            long end = start + grad.elementCount();
            if (to < 0) {
                to = end;
            }
            from = start;
            count++;
            if ((to - from) * Float.BYTES >= bucketBytes) {
                ranges.add(new long[] {from, to, count});
                to = -1;
                count = 0;
            }
        }
        if (count > 0) {
            ranges.add(new long[] {0, to, count}); // the first bucket reaches the block's start
        } else if (!ranges.isEmpty()) {
            ranges.getLast()[0] = 0;
        }
        return ranges;
    }

    /** For each layer owning parameters, the bucket of each of them. */
    private void mapLayers(Model model, List<long[]> ranges) {
        // Keyed by the gradient tensor: containers hand out renamed copies of the Parameter records.
        Map<Tensor, Integer> bucketOfParameter = new IdentityHashMap<>();
        List<Parameter> parameters = model.parameters();
        int bucket = 0;
        int inBucket = 0;
        for (int i = parameters.size() - 1; i >= 0; i--) {
            bucketOfParameter.put(parameters.get(i).grad(), bucket);
            if (++inBucket == ranges.get(bucket)[2]) {
                bucket++;
                inBucket = 0;
            }
        }
        for (Layer leaf : model.leaves().values()) {
            List<Parameter> own = leaf.parameters();
            if (own.isEmpty()) {
                continue;
            }
            int[] buckets = new int[own.size()];
            for (int i = 0; i < own.size(); i++) {
                Integer found = bucketOfParameter.get(own.get(i).grad());
                if (found == null) {
                    throw new IllegalStateException("GradientBuckets: a parameter of layer " + leaf.describe()
                            + " is not among " + model.name() + "'s parameters");
                }
                buckets[i] = found;
            }
            bucketsOfLayer.put(leaf, buckets);
        }
    }

    /** {@return how many buckets the gradient block is cut into} */
    public int bucketCount() {
        return slices.length;
    }

    /**
     * The floats in each bucket, in the order they are reduced when backward runs in reverse
     * parameter order.
     *
     * @return floats per bucket
     */
    public long[] bucketSizes() {
        return bucketFloats.clone();
    }

    /** Called by the model after each layer's backward: starts the buckets this layer completed. */
    @Override
    public void afterBackward(Layer layer) {
        int[] buckets = bucketsOfLayer.get(layer);
        if (buckets == null) {
            return;
        }
        for (int bucket : buckets) {
            if (--pending[bucket] == 0) {
                start(bucket);
            }
        }
    }

    private void start(int bucket) {
        if (started[bucket]) {
            return;
        }
        started[bucket] = true;
        long slot = posted;
        startOrder[(int) (slot % startOrder.length)] = bucket;
        posted = slot + 1; // publishes the slot
        LockSupport.unpark(thread);
    }

    /**
     * Waits until every bucket started so far has been reduced, starting nothing: afterwards the
     * training thread may make another collective (SyncBatchNorm's sums during backward) without
     * two threads inside MPI, and in the same order on every rank.
     *
     * @throws MpiException when an all-reduce failed
     */
    public void drain() {
        waiter = Thread.currentThread();
        try {
            while (completed < posted && failure == null) {
                if (!thread.isAlive()) {
                    throw new MpiException("gradient all-reduce: the communication thread has died");
                }
                LockSupport.parkNanos(this, LIVENESS_CHECK_NANOS);
            }
        } finally {
            waiter = null;
        }
        Throwable failed = failure;
        if (failed != null) {
            throw new MpiException("gradient all-reduce on rank " + world.rank() + " failed: " + failed.getMessage(), failed);
        }
    }

    /**
     * After backward: starts the buckets not started yet, waits for all of them, scales the block
     * by 1/N and resets for the next step.
     *
     * @throws MpiException when an all-reduce failed (the message says which bucket)
     */
    public void finish() {
        for (int bucket = 0; bucket < slices.length; bucket++) {
            start(bucket);
        }
        // Every bucket of this step is now posted (each exactly once), so waiting for what was
        // posted is waiting for the whole step.
        long waitStart = System.nanoTime();
        drain();
        exposedNanos += System.nanoTime() - waitStart;
        steps++;
        if (world.size() > 1) {
            block.device().blas().scale(block, 1f / world.size());
        }
        System.arraycopy(parametersPerBucket, 0, pending, 0, pending.length);
        java.util.Arrays.fill(started, false);
    }

    private void communicate() {
        long done = 0;
        while (!stopping) {
            if (done == posted) {
                LockSupport.park(this);
                continue;
            }
            int bucket = startOrder[(int) (done % startOrder.length)];
            long begin = System.nanoTime();
            try (var _ = watchdog == null ? null : watchdog.watch(CollectiveWatchdog.Slot.COMMUNICATION,
                    "gradient all-reduce of bucket " + bucket + " (" + bucketFloats[bucket] + " floats)")) {
                world.allReduceSum(slices[bucket], bucketFloats[bucket]);
            } catch (Throwable problem) {
                failure = problem;
            }
            communicationNanos += System.nanoTime() - begin;
            done++;
            completed = done;
            Thread toWake = waiter;
            if (toWake != null) {
                LockSupport.unpark(toWake);
            }
            if (failure != null) {
                return;
            }
        }
    }

    /**
     * What the all-reduce cost per step so far, and the share of it that backward hid.
     *
     * @return e.g. "all-reduce 1.2 ms/step in 3 buckets, 64% overlapped with backward"; null before a step
     */
    public String summary() {
        if (steps == 0) {
            return null;
        }
        double total = communicationNanos / 1e6 / steps;
        double exposed = exposedNanos / 1e6 / steps;
        double hidden = total <= 0 ? 0 : Math.max(0, Math.min(1, 1 - exposed / total));
        return String.format("all-reduce %.2f ms/step in %d bucket%s, %.0f%% overlapped with backward", total,
                slices.length, slices.length == 1 ? "" : "s", 100 * hidden);
    }

    /**
     * Milliseconds per step spent inside MPI_Allreduce (all buckets), and of them the part the
     * training thread waited for after backward: {total, exposed}.
     *
     * @return {total, exposed} in milliseconds per step, or zeros before a step
     */
    public double[] millisecondsPerStep() {
        return steps == 0 ? new double[2]
                : new double[] {communicationNanos / 1e6 / steps, exposedNanos / 1e6 / steps};
    }

    /** Removes the hook and stops the communication thread (which must be idle: call after {@link #finish}). */
    @Override
    public void close() {
        model.removeHook(this);
        stopping = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
