package dev.isthmus.data;

import dev.isthmus.random.CounterRng;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Cuts a dataset into batches in native memory, epoch by epoch: optional shuffling, augmentation
 * and per-channel normalisation, and optionally a background thread that assembles the next batch
 * while the caller trains on the current one.
 *
 * <p><b>Reproducibility.</b> Everything random is a pure function of the seed and the epoch: the
 * sample order of epoch e is a Fisher–Yates shuffle whose draws are {@link CounterRng} values of
 * (seed, e, step), and the augmentation of the sample at position p of epoch e draws from
 * (seed, e, p). Nothing carries over from one epoch to the next, so {@code startEpoch(e)} after a
 * restart from a checkpoint reproduces exactly the batches an uninterrupted run would have seen.
 * With and without prefetching the batches are bit-identical: the same code assembles them.
 *
 * <p><b>Memory.</b> Batches live in native buffers allocated once (one, or two when prefetching:
 * double buffering); a {@link Batch} is valid until the next {@link #next()} or
 * {@link #startEpoch(int)}. The steady state allocates nothing: the hand-off with the prefetch
 * thread is two volatile counters and {@link LockSupport} park/unpark.
 *
 * <p>One thread at a time may use a loader; {@link #close()} stops the prefetch thread and frees
 * the buffers, after which the batches it handed out can no longer be read.
 */
public final class DataLoader implements AutoCloseable {
    /** Separate streams of the one seed, so the order and the augmentation draws are unrelated. */
    private static final long SHUFFLE_STREAM = 1;
    private static final long AUGMENTATION_STREAM = 2;
    /** How often a waiting caller checks that the prefetch thread is still alive. */
    private static final long LIVENESS_CHECK_NANOS = 100_000_000L;
    private static final AtomicInteger THREAD_NUMBERS = new AtomicInteger();

    /** A native batch buffer and the two views of it next() hands out. */
    private record Buffer(MemorySegment images, MemorySegment labels, Batch full, Batch last) {
    }

    private final Dataset dataset;
    private final DataShard shard;
    private final int batchSize;
    private final boolean shuffle;
    private final int classes;
    private final int height;
    private final int width;
    private final int sampleFloats;
    /** Per sample: [] and 1 for a class per sample, [H, W] and H·W for a class per pixel. */
    private final Shape labelShape;
    private final int labelInts;
    private final int batchesPerEpoch;
    private final int lastBatchSize;
    private final long shuffleSeed;
    private final long augmentationSeed;
    /** Null when there is nothing to do, so the per-sample loop tests one reference. */
    private final Normalization normalization;
    private final Augmentation augmentation;
    private final int[] order;
    private final Arena arena;
    private final Buffer[] buffers;
    /**
     * One unaugmented sample as the dataset wrote it, then copied to the heap with one bulk copy:
     * the crop loop runs on Java arrays, fast even before the JIT has compiled it, and each output
     * row goes back with one bulk copy. All null without augmentation.
     */
    private final MemorySegment augmentationSource;
    private final float[] sourcePixels;
    private final float[] augmentedRow;
    private final Thread prefetchThread;

    // The caller's state.
    private int epoch = -1;
    private int cursor;
    private DataLoadingException failure;
    private boolean closed;

    // The hand-off: the caller writes the job's fields, then increments `posted` (a volatile
    // write that publishes them); the prefetch thread assembles it, records any failure, then
    // sets `finished` to the same count. The caller never posts while a job is in flight.
    private int jobEpoch;
    private int jobBatch;
    private Buffer jobBuffer;
    private Throwable jobFailure;
    private volatile long posted;
    private volatile long finished;
    private volatile boolean stopping;
    private volatile Thread waiter;

    /**
     * Batches of {@code dataset}, {@code batchSize} samples each.
     *
     * @param shuffle       a new order each epoch; otherwise the dataset's order
     * @param dropLast      drop the last batch when it would be smaller than batchSize
     * @param normalization per-channel (x - mean) / std after scaling to [0, 1]; null for none
     * @param augmentation  random crop and flip; null for none
     * @param prefetch      assemble the next batch on a background thread
     * @param dataset the dataset
     * @param batchSize the samples per batch
     * @param seed the seed of the shuffle
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, boolean dropLast, long seed,
                      Normalization normalization, Augmentation augmentation, boolean prefetch) {
        this(dataset, batchSize, shuffle, dropLast, seed, normalization, augmentation, prefetch, DataShard.WHOLE);
    }

    /**
     * Batches of this process's {@code shard} of {@code dataset} (data-parallel training): the
     * epoch's order is the one every process computes, and this loader reads the shard's positions
     * of it. Augmentation draws are keyed by the position in the whole order, so a sample is cropped
     * and flipped the same however many processes share the epoch.
     *
     * @param shuffle       a new order each epoch; otherwise the dataset's order
     * @param dropLast      drop the last batch when it would be smaller than batchSize
     * @param normalization per-channel (x - mean) / std after scaling to [0, 1]; null for none
     * @param augmentation  random crop and flip; null for none
     * @param prefetch      assemble the next batch on a background thread
     * @param dataset the dataset
     * @param batchSize the samples per batch
     * @param seed the seed of the shuffle
     * @param shard which positions of each epoch's order this loader reads
     */
    public DataLoader(Dataset dataset, int batchSize, boolean shuffle, boolean dropLast, long seed,
                      Normalization normalization, Augmentation augmentation, boolean prefetch, DataShard shard) {
        if (shard == null) {
            throw new IllegalArgumentException("DataLoader: shard is null (DataShard.WHOLE reads everything)");
        }
        if (dataset == null) {
            throw new IllegalArgumentException("DataLoader: dataset is null");
        }
        if (dataset.size() < 1) {
            throw new IllegalArgumentException("DataLoader: dataset " + dataset.describe() + " is empty");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("DataLoader: batch size must be >= 1, got " + batchSize);
        }
        int samples = shard.size(dataset.size());
        if (dropLast && batchSize > samples) {
            throw new IllegalArgumentException("DataLoader: with dropLast, batch size " + batchSize
                    + " larger than the dataset (" + samples + " samples" + (shard.ranks() > 1 ? " in rank "
                    + shard.rank() + "'s share of " + dataset.size() : "") + ") leaves no batch at all");
        }
        Shape sampleShape = dataset.sampleShape();
        if (sampleShape == null || sampleShape.rank() < 3 || sampleShape.rank() > 4) {
            throw new IllegalArgumentException("DataLoader: samples must be [channels, height, width] images or "
                    + "[channels, frames, height, width] clips, " + dataset.describe() + " has " + sampleShape);
        }
        Shape labelShape = dataset.labelShape();
        if (labelShape == null || (labelShape.rank() != 0 && !labelShape.equals(Shape.of(
                sampleShape.dim(sampleShape.rank() - 2), sampleShape.dim(sampleShape.rank() - 1))))) {
            throw new IllegalArgumentException("DataLoader: labels must be one class per sample [] or one per pixel "
                    + "[height, width], " + dataset.describe() + " has labels " + labelShape + " for samples " + sampleShape);
        }
        // A crop or flip would have to move the mask too, and the padding it brings in has no class:
        // refused rather than training on masks that no longer match their images.
        if (labelShape.rank() != 0 && augmentation != null && !augmentation.isIdentity()) {
            throw new IllegalArgumentException("DataLoader: augmentation " + augmentation + " is for a class per sample; "
                    + dataset.describe() + " has a class per pixel " + labelShape + ", which a crop or flip would not move");
        }
        int channels = sampleShape.dim(0);
        if (normalization != null && normalization.channels() != channels) {
            throw new IllegalArgumentException("DataLoader: normalization has " + normalization.channels()
                    + " channels, but samples of " + dataset.describe() + " have " + channels);
        }
        // A rank's evaluation share can be empty (fewer samples than ranks): one sample of room, no batches.
        int capacity = Math.max(1, Math.min(batchSize, samples));
        long batchFloats = (long) capacity * sampleShape.elementCount();
        if (batchFloats > Shape.MAX_ELEMENTS) {
            throw new IllegalArgumentException("DataLoader: a batch of " + capacity + " samples of " + sampleShape
                    + " has more than " + Shape.MAX_ELEMENTS + " elements");
        }
        this.dataset = dataset;
        this.shard = shard;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.classes = dataset.classes();
        // The last two axes are the picture; a clip's frames are cropped and flipped alike.
        this.height = sampleShape.dim(sampleShape.rank() - 2);
        this.width = sampleShape.dim(sampleShape.rank() - 1);
        this.sampleFloats = (int) sampleShape.elementCount();
        this.labelShape = labelShape;
        this.labelInts = (int) labelShape.elementCount();
        this.batchesPerEpoch = dropLast ? samples / batchSize : Math.ceilDiv(samples, batchSize);
        this.lastBatchSize = dropLast || batchesPerEpoch == 0 ? capacity : samples - (batchesPerEpoch - 1) * batchSize;
        this.shuffleSeed = CounterRng.mix(seed, SHUFFLE_STREAM, 0);
        this.augmentationSeed = CounterRng.mix(seed, AUGMENTATION_STREAM, 0);
        this.normalization = normalization;
        this.augmentation = augmentation == null || augmentation.isIdentity() ? null : augmentation;
        this.order = new int[dataset.size()];
        this.arena = Arena.ofShared();
        this.buffers = new Buffer[prefetch ? 2 : 1];
        try {
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = allocateBuffer(sampleShape, capacity);
            }
            this.augmentationSource = this.augmentation == null ? null
                    : arena.allocate(ValueLayout.JAVA_FLOAT, sampleFloats);
        } catch (RuntimeException | Error failure) {
            arena.close();
            throw failure;
        }
        this.sourcePixels = this.augmentation == null ? null : new float[sampleFloats];
        this.augmentedRow = this.augmentation == null ? null : new float[width];
        if (prefetch) {
            prefetchThread = new Thread(this::prefetchLoop, "isthmus-data-prefetch-" + THREAD_NUMBERS.incrementAndGet());
            // A forgotten close() must not keep the JVM alive.
            prefetchThread.setDaemon(true);
            prefetchThread.start();
        } else {
            prefetchThread = null;
        }
    }

    private Buffer allocateBuffer(Shape sampleShape, int capacity) {
        MemorySegment images = arena.allocate(ValueLayout.JAVA_FLOAT, (long) capacity * sampleFloats);
        MemorySegment labels = arena.allocate(ValueLayout.JAVA_INT, (long) capacity * labelInts);
        Batch full = batchView(images, labels, sampleShape, capacity);
        Batch last = lastBatchSize == capacity ? full : batchView(images, labels, sampleShape, lastBatchSize);
        return new Buffer(images, labels, full, last);
    }

    private Batch batchView(MemorySegment images, MemorySegment labels, Shape sampleShape, int samples) {
        return new Batch(images.asSlice(0, (long) samples * sampleFloats * Float.BYTES),
                labels.asSlice(0, (long) samples * labelInts * Integer.BYTES),
                batchShape(sampleShape, samples), batchShape(labelShape, samples));
    }

    /** [samples, ...sampleShape]. */
    private static Shape batchShape(Shape sampleShape, int samples) {
        int[] dims = new int[sampleShape.rank() + 1];
        dims[0] = samples;
        System.arraycopy(sampleShape.dims(), 0, dims, 1, sampleShape.rank());
        return Shape.of(dims);
    }

    private int sampleShapeChannels() {
        return dataset.sampleShape().dim(0);
    }

    /** {@return the dataset batches are read from} */
    public Dataset dataset() {
        return dataset;
    }

    /** {@return the shape of one sample's labels: [] for a class per sample, [H, W] for a class per pixel} */
    public Shape labelShape() {
        return labelShape;
    }

    /** {@return the samples per batch} */
    public int batchSize() {
        return batchSize;
    }

    /** {@return the batches in one epoch (the last may be partial)} */
    public int batchesPerEpoch() {
        return batchesPerEpoch;
    }

    /**
     * Rewinds to the first batch of {@code epoch} (>= 0), in that epoch's order.
     *
     * @param epoch the epoch, from 1
     */
    public void startEpoch(int epoch) {
        ensureOpen();
        if (epoch < 0) {
            throw new IllegalArgumentException("DataLoader: epoch must be >= 0, got " + epoch);
        }
        // A prefetch of the previous epoch may still be reading the order; let it finish.
        awaitPrefetch();
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (shuffle) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = (int) Math.unsignedMultiplyHigh(CounterRng.mix(shuffleSeed, epoch, i), i + 1L);
                int swapped = order[i];
                order[i] = order[j];
                order[j] = swapped;
            }
        }
        this.epoch = epoch;
        this.cursor = 0;
        this.failure = null;
        if (prefetchThread != null) {
            post(epoch, 0, buffers[0]);
        }
    }

    /**
     * The next batch of the epoch, or null after its last batch. Valid until the next call to
     * {@code next()} or {@link #startEpoch(int)}.
     *
     * @return the next batch of the epoch, or null after its last batch
     * @throws DataLoadingException when the batch could not be assembled (the cause says why);
     *                              the epoch cannot continue, but {@link #startEpoch(int)} may
     *                              start another
     */
    public Batch next() {
        ensureOpen();
        if (epoch < 0) {
            throw new IllegalStateException("DataLoader: call startEpoch(epoch) before next()");
        }
        if (failure != null) {
            throw new IllegalStateException("DataLoader: epoch " + epoch + " stopped at a failed batch; "
                    + "call startEpoch to go on", failure);
        }
        if (cursor >= batchesPerEpoch) {
            return null;
        }
        int batch = cursor;
        Buffer buffer = buffers[batch % buffers.length];
        if (prefetchThread == null) {
            try {
                assemble(epoch, batch, buffer);
            } catch (RuntimeException | Error problem) {
                throw failure = new DataLoadingException(epoch, batch, problem);
            }
        } else {
            awaitPrefetch();
            if (jobFailure != null) {
                throw failure = new DataLoadingException(epoch, batch, jobFailure);
            }
            if (batch + 1 < batchesPerEpoch) {
                post(epoch, batch + 1, buffers[(batch + 1) % buffers.length]);
            }
        }
        cursor++;
        return batch == batchesPerEpoch - 1 ? buffer.last() : buffer.full();
    }

    /** Stops the prefetch thread and frees the batch buffers. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (prefetchThread != null) {
            stopping = true;
            LockSupport.unpark(prefetchThread);
            joinPrefetchThread();
        }
        arena.close();
    }

    /** The background thread, or null without prefetching; for tests. */
    Thread prefetchThread() {
        return prefetchThread;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("DataLoader: used after close()");
        }
    }

    private void joinPrefetchThread() {
        boolean interrupted = false;
        while (prefetchThread.isAlive()) {
            try {
                prefetchThread.join();
            } catch (InterruptedException ignored) {
                // The buffers cannot be freed while the thread may still write them: wait on.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void post(int epoch, int batch, Buffer buffer) {
        jobEpoch = epoch;
        jobBatch = batch;
        jobBuffer = buffer;
        jobFailure = null;
        posted = posted + 1;
        LockSupport.unpark(prefetchThread);
    }

    /** Waits until the posted job, if any, is finished. */
    private void awaitPrefetch() {
        if (prefetchThread == null || finished == posted) {
            return;
        }
        // Publish ourselves before re-reading `finished`: the prefetch thread writes `finished`
        // before reading `waiter`, so one of us sees the other's write and no wake-up is lost.
        waiter = Thread.currentThread();
        // The wait is short and uninterruptible; an interrupt is kept for the caller, but must not
        // turn parkNanos (which returns at once while the flag is set) into a spin.
        boolean interrupted = false;
        try {
            while (finished != posted) {
                if (!prefetchThread.isAlive()) {
                    throw new IllegalStateException("DataLoader: the prefetch thread " + prefetchThread.getName()
                            + " died without finishing batch " + jobBatch + " of epoch " + jobEpoch);
                }
                LockSupport.parkNanos(this, LIVENESS_CHECK_NANOS);
                interrupted |= Thread.interrupted();
            }
        } finally {
            waiter = null;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void prefetchLoop() {
        long done = 0;
        while (true) {
            while (posted == done && !stopping) {
                LockSupport.park(this);
            }
            if (stopping) {
                return;
            }
            long job = posted;
            try {
                assemble(jobEpoch, jobBatch, jobBuffer);
            } catch (Throwable problem) {
                // Handed to the caller by next(); the thread lives on for the next epoch.
                jobFailure = problem;
            }
            done = job;
            finished = job;
            Thread toWake = waiter;
            if (toWake != null) {
                LockSupport.unpark(toWake);
            }
        }
    }

    /** Writes batch {@code batch} of {@code epoch} into {@code buffer}. */
    private void assemble(int epoch, int batch, Buffer buffer) {
        int first = batch * batchSize;
        int count = batch == batchesPerEpoch - 1 ? lastBatchSize : batchSize;
        for (int sample = 0; sample < count && !stopping; sample++) {
            int position = shard.globalPosition(first + sample, order.length);
            int index = order[position];
            if (labelInts == 1 && labelShape.rank() == 0) {
                int label = dataset.label(index);
                if (label < 0 || label >= classes) {
                    throw new IllegalStateException(dataset.describe() + ": label " + label + " of sample " + index
                            + " is outside [0, " + classes + ")");
                }
                buffer.labels().setAtIndex(ValueLayout.JAVA_INT, sample, label);
            } else {
                // A mask may hold the loss's ignore index, which the loader does not know: the loss checks the values.
                dataset.readLabels(index, buffer.labels(), (long) sample * labelInts);
            }
            long offset = (long) sample * sampleFloats;
            if (augmentation == null) {
                dataset.read(index, buffer.images(), offset);
            } else {
                dataset.read(index, augmentationSource, 0);
                MemorySegment.copy(augmentationSource, ValueLayout.JAVA_FLOAT, 0, sourcePixels, 0, sampleFloats);
                augment(epoch, position, buffer.images(), offset);
            }
            if (normalization != null) {
                // One channel's values are contiguous: a plane, or every frame's plane of a clip.
                normalization.apply(buffer.images(), offset, sampleFloats / sampleShapeChannels());
            }
        }
    }

    /**
     * Copies {@link #sourcePixels} into {@code destination} cropped and maybe flipped.
     * Output pixel (y, x) is source pixel (y + dy, x' + dx), zero outside the image, where
     * x' = W-1-x when flipped; dy and dx are torchvision's crop offsets minus the padding.
     */
    private void augment(int epoch, int position, MemorySegment destination, long offset) {
        int padding = augmentation.cropPadding();
        long offsets = 2L * padding + 1;
        long draw = 3L * position;
        int dy = (int) Math.unsignedMultiplyHigh(CounterRng.mix(augmentationSeed, epoch, draw), offsets) - padding;
        int dx = (int) Math.unsignedMultiplyHigh(CounterRng.mix(augmentationSeed, epoch, draw + 1), offsets) - padding;
        boolean flip = augmentation.horizontalFlip() && CounterRng.mix(augmentationSeed, epoch, draw + 2) < 0;
        int channels = sampleFloats / (height * width);
        for (int channel = 0; channel < channels; channel++) {
            for (int y = 0; y < height; y++) {
                long sourceY = (long) y + dy;
                boolean rowInside = sourceY >= 0 && sourceY < height;
                int sourceRow = rowInside ? (channel * height + (int) sourceY) * width : 0;
                for (int x = 0; x < width; x++) {
                    long sourceX = (long) (flip ? width - 1 - x : x) + dx;
                    augmentedRow[x] = !rowInside || sourceX < 0 || sourceX >= width ? 0f
                            : sourcePixels[sourceRow + (int) sourceX];
                }
                long target = offset + ((long) channel * height + y) * width;
                MemorySegment.copy(augmentedRow, 0, destination, ValueLayout.JAVA_FLOAT, target * Float.BYTES, width);
            }
        }
    }

    @Override
    public String toString() {
        return "DataLoader[" + dataset.describe() + (shard.ranks() > 1 ? ", rank " + shard.rank() + " of " + shard.ranks() : "")
                + ", batch " + batchSize + ", " + batchesPerEpoch
                + " batches per epoch" + (shuffle ? ", shuffled" : "") + (augmentation != null ? ", " + augmentation : "")
                + (normalization != null ? ", " + normalization : "") + (prefetchThread != null ? ", prefetch" : "") + "]";
    }
}
