package dev.isthmus.distributed;

import dev.isthmus.device.DeviceKind;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.random.CounterRng;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.train.ProcessGroup;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The {@link ProcessGroup} of CPU processes started by an MPI launcher: rank 0's parameters and
 * buffers broadcast at the start, gradients averaged by bucketed all-reduces that overlap backward
 * ({@link GradientBuckets}), or, with a bucket size of 0, by one all-reduce of the whole gradient
 * block after backward (the reference the bucketed form is tested against). Every collective runs
 * under a {@link CollectiveWatchdog}, so a hung peer ends the job instead of hanging it.
 */
public final class MpiProcessGroup implements ProcessGroup, AutoCloseable {
    /** DDP's default bucket: 25 MB. Isthmus's models are small, so smaller buckets overlap more. */
    public static final long DEFAULT_BUCKET_BYTES = 4L << 20;

    /** The counter of {@link CounterRng#mix} that derives rank r's dropout stream. */
    private static final long DROPOUT_STREAM = 0x6470L;

    private final MpiCommunicator world;
    private final DataParallel collectives;
    private final long bucketBytes;
    private final CollectiveWatchdog watchdog;
    private final HostSums sums;
    private GradientBuckets buckets;
    private Model joined;

    /**
     * A group over every process of the job.
     *
     * @param world       the communicator (the caller closes it, after this)
     * @param bucketBytes the gradient bucket size; 0: one all-reduce of the whole block after backward
     * @param timeout     how long a collective may run before the job is ended
     * @param err         where the watchdog reports
     */
    public MpiProcessGroup(MpiCommunicator world, long bucketBytes, Duration timeout, PrintStream err) {
        if (world == null) {
            throw new IllegalArgumentException("MpiProcessGroup: the communicator is null");
        }
        if (bucketBytes < 0) {
            throw new IllegalArgumentException("MpiProcessGroup: bucket size " + bucketBytes + " bytes is negative");
        }
        this.world = world;
        this.collectives = new DataParallel(world);
        this.bucketBytes = bucketBytes;
        this.watchdog = new CollectiveWatchdog(world, timeout, err);
        this.sums = new HostSums(world, watchdog);
    }

    @Override
    public int rank() {
        return world.rank();
    }

    @Override
    public int size() {
        return world.size();
    }

    @Override
    public void join(Model model, String configuration) {
        if (model == null || model.device() == null || model.device().kind() != DeviceKind.CPU) {
            throw new IllegalArgumentException("data-parallel training over MPI: the model must be built on the CPU"
                    + (model == null ? "" : "; " + model.name() + " is on "
                    + (model.device() == null ? "no device" : model.device().name())));
        }
        if (joined != null) {
            if (joined != model) {
                throw new IllegalStateException("MpiProcessGroup: already joined with " + joined.name());
            }
            return; // a second fit of the same trainer: the hooks are in place
        }
        try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, "the configuration check")) {
            collectives.requireSameConfiguration(hash(configuration), configuration);
        }
        try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, "the broadcast of rank 0's parameters")) {
            collectives.broadcastFromRankZero(model.parameterBlock());
        }
        broadcastBuffers(model);
        separateDropoutStreams(model);
        if (bucketBytes > 0) {
            buckets = new GradientBuckets(model, world, bucketBytes, watchdog);
        }
        joined = model;
    }

    private void separateDropoutStreams(Model model) {
        separateDropoutStreams(model, world.rank());
    }

    /**
     * Every rank drew the same dropout seeds from the same model seed; as in DDP, where each
     * process's generator runs on its own, the ranks must drop different units. Rank 0 keeps its
     * stream (so its checkpoint resumes a one-process run exactly); rank r > 0 derives its own.
     */
    static void separateDropoutStreams(Model model, int rank) {
        if (rank == 0) {
            return;
        }
        for (Layer layer : model.leaves().values()) {
            if (layer instanceof Dropout dropout) {
                dropout.restoreGenerator(CounterRng.mix(dropout.seed(), DROPOUT_STREAM, rank), dropout.calls());
            }
        }
    }

    @Override
    public void averageGradients(Model model) {
        if (model != joined) {
            throw new IllegalStateException("MpiProcessGroup: averageGradients of " + model.name() + " before join");
        }
        if (buckets != null) {
            buckets.finish();
            return;
        }
        try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, "the gradient all-reduce")) {
            collectives.averageInPlace(model.gradientBlock());
        }
    }

    @Override
    public void broadcastBuffers(Model model) {
        try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, "the broadcast of rank 0's buffers")) {
            for (NamedTensor buffer : model.buffers()) {
                Tensor tensor = buffer.tensor();
                world.broadcastBytes(tensor.memory(), tensor.byteSize(), 0);
            }
        }
    }

    /**
     * Sums over the ranks. Called by the trainer per epoch and by synchronised batch norm every
     * step, during backward too: the buckets already started are drained first, so that only one
     * thread is inside MPI and the collectives come in the same order on every rank. The values
     * travel through a native buffer kept for the purpose (grown once), so a step allocates nothing.
     */
    @Override
    public void sum(double[] values) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException("MpiProcessGroup.sum: no values");
        }
        if (buckets != null) {
            buckets.drain();
        }
        sums.sumInPlace(values, "a sum over the ranks (epoch figures or batch statistics)");
    }

    @Override
    public String communicationSummary() {
        return buckets == null ? null : buckets.summary();
    }

    /**
     * The gradient buckets once joined with bucketing, else null.
     *
     * @return the buckets, or null
     */
    public GradientBuckets buckets() {
        return buckets;
    }

    /** Stops the communication thread and the watchdog (the communicator stays open). */
    @Override
    public void close() {
        if (buckets != null) {
            buckets.close();
        }
        watchdog.close();
        sums.close();
    }

    /**
     * A 64-bit FNV-1a hash of the configuration text (what the ranks compare).
     *
     * @param configuration the text
     * @return its hash
     */
    static long hash(String configuration) {
        if (configuration == null) {
            throw new IllegalArgumentException("data-parallel: the configuration to compare is null");
        }
        long hash = 0xcbf29ce484222325L;
        for (byte b : configuration.getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return hash;
    }
}
