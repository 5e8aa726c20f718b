package dev.isthmus.distributed;

import dev.isthmus.device.Device;
import dev.isthmus.device.cuda.CudaDevice;
import dev.isthmus.device.cuda.NcclCommunicator;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.train.ProcessGroup;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * The {@link ProcessGroup} of GPU processes, one GPU each: MPI starts the job, carries NCCL's
 * unique id from rank 0 to the others, compares the configurations and sums the epoch's figures
 * (host values); NCCL moves the tensors — rank 0's parameters and buffers broadcast at the start,
 * the gradient block summed after backward — on each device's stream, where the kernels before
 * and after them run, so nothing waits on the host. The whole block is reduced in one call once
 * backward has finished: NCCL's ring saturates the links with one large message, and on one stream
 * a bucket could not start before the backward kernels queued ahead of it anyway.
 */
public final class NcclProcessGroup implements ProcessGroup, AutoCloseable {
    private final MpiCommunicator world;
    private final DataParallel collectives;
    private final CollectiveWatchdog watchdog;
    private final HostSums sums;
    private final NcclCommunicator nccl;
    private Model joined;

    /**
     * Joins the NCCL communicator of every process of the job.
     *
     * @param world   MPI_COMM_WORLD (the caller closes it, after this)
     * @param device  this process's GPU (choose it by local rank)
     * @param timeout how long an MPI collective may wait for a peer
     * @param err     where the watchdog reports
     */
    public NcclProcessGroup(MpiCommunicator world, CudaDevice device, Duration timeout, PrintStream err) {
        if (world == null || device == null) {
            throw new IllegalArgumentException("NcclProcessGroup: the MPI communicator and a CUDA device are required");
        }
        this.world = world;
        this.collectives = new DataParallel(world);
        this.watchdog = new CollectiveWatchdog(world, timeout, err);
        this.sums = new HostSums(world, watchdog);
        try {
            byte[] id = world.rank() == 0 ? NcclCommunicator.uniqueId() : new byte[128];
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buffer = arena.allocate(id.length);
                MemorySegment.copy(id, 0, buffer, ValueLayout.JAVA_BYTE, 0, id.length);
                try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, "the broadcast of NCCL's unique id")) {
                    world.broadcastBytes(buffer, id.length, 0);
                }
                id = buffer.toArray(ValueLayout.JAVA_BYTE);
            }
            this.nccl = NcclCommunicator.open(device, world.size(), world.rank(), id);
        } catch (RuntimeException failed) {
            watchdog.close();
            sums.close();
            throw failed;
        }
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
        if (joined == model) {
            return;
        }
        if (joined != null) {
            throw new IllegalStateException("NcclProcessGroup: already joined with " + joined.name());
        }
        Device device = model.device();
        if (device == null || !(device instanceof CudaDevice)) {
            throw new IllegalArgumentException("data-parallel training over NCCL: " + model.name() + " must be built on the GPU");
        }
        try (var _ = watchdog.watch(CollectiveWatchdog.Slot.TRAINING, "the configuration check")) {
            collectives.requireSameConfiguration(MpiProcessGroup.hash(configuration), configuration);
        }
        nccl.broadcast(model.parameterBlock(), 0);
        broadcastBuffers(model);
        MpiProcessGroup.separateDropoutStreams(model, world.rank());
        joined = model;
    }

    @Override
    public void averageGradients(Model model) {
        if (model != joined) {
            throw new IllegalStateException("NcclProcessGroup: averageGradients of " + model.name() + " before join");
        }
        nccl.allReduceSum(model.gradientBlock());
        if (world.size() > 1) {
            model.device().blas().scale(model.gradientBlock(), 1f / world.size());
        }
    }

    @Override
    public void broadcastBuffers(Model model) {
        for (NamedTensor buffer : model.buffers()) {
            nccl.broadcast(buffer.tensor(), 0);
        }
    }

    @Override
    public void sum(double[] values) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException("MPI_Allreduce: no values to sum");
        }
        sums.sumInPlace(values, "the sum of the epoch's figures");
    }

    /** Destroys the NCCL communicator and stops the watchdog (MPI stays open). */
    @Override
    public void close() {
        try {
            nccl.close();
        } finally {
            watchdog.close();
            sums.close();
        }
    }
}
