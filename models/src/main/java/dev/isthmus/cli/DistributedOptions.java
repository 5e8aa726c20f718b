package dev.isthmus.cli;

import dev.isthmus.distributed.Launch;
import dev.isthmus.distributed.MpiCommunicator;
import dev.isthmus.distributed.MpiProcessGroup;
import dev.isthmus.distributed.NcclProcessGroup;
import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.device.cuda.CudaDevice;
import dev.isthmus.nn.BatchNorm;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.train.Trainer;
import picocli.CommandLine.Option;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Data-parallel training when an MPI launcher started this process ({@code mpirun -np 4 isthmus
 * train ...}): nothing to ask for, the launcher's environment says so ({@link Launch}). These
 * options only tune it: the gradient bucket size and how long a collective may wait for a peer.
 */
final class DistributedOptions {
    @Option(names = "--bucket-mb", paramLabel = "MB", defaultValue = "4", order = 70,
            description = "under mpirun: gradient bucket size; each bucket is all-reduced as soon as backward has filled it, "
                    + "while backward goes on (0: one all-reduce after backward; default: ${DEFAULT-VALUE})")
    double bucketMegabytes;

    @Option(names = "--sync-bn", order = 72,
            description = "under mpirun: batch norm normalises over the global batch of all processes (SyncBatchNorm); "
                    + "by default each process uses its own batch's statistics, as DistributedDataParallel does")
    boolean syncBatchNorm;

    @Option(names = "--collective-timeout", paramLabel = "SECONDS", defaultValue = "300", order = 71,
            description = "under mpirun: a collective that waits longer for a peer ends the whole job with a message "
                    + "(default: ${DEFAULT-VALUE})")
    int timeoutSeconds;

    /**
     * MPI and the process group for a training run, or nothing when this process runs alone.
     * Closing it finalises MPI.
     */
    static final class Session implements AutoCloseable {
        private final Launch launch;
        private final MpiCommunicator world;
        private final MpiProcessGroup group;
        private final Duration timeout;
        private final PrintStream err;
        private final Thread signalNotice;
        private NcclProcessGroup gpuGroup;
        private volatile boolean finished;

        private Session(Launch launch, MpiCommunicator world, MpiProcessGroup group, Duration timeout, Path checkpoint,
                        PrintStream err) {
            this.launch = launch;
            this.world = world;
            this.group = group;
            this.timeout = timeout;
            this.err = err;
            if (world == null) {
                signalNotice = null;
                return;
            }
            // When a peer dies, mpirun ends the survivors with SIGTERM: each says so on its way out.
            signalNotice = new Thread(() -> {
                if (!finished) {
                    err.printf("isthmus: rank %d of %d: ended by the MPI launcher before training finished (another process "
                                    + "of the job failed or was killed; see the launcher's message).%s%n",
                            world.rank(), world.size(),
                            checkpoint == null ? "" : " The last checkpoint written, if any, is " + checkpoint + ".");
                    err.flush();
                }
            }, "isthmus-rank-exit-notice");
            Runtime.getRuntime().addShutdownHook(signalNotice);
        }

        /** {@return whether several processes train together} */
        boolean distributed() {
            return world != null;
        }

        /** {@return whether this process prints and writes files: rank 0, or the only process} */
        boolean leads() {
            return world == null || world.rank() == 0;
        }

        /** {@return the number of processes} */
        int size() {
            return launch.size();
        }

        /**
         * Makes {@code trainer} data-parallel (nothing when alone).
         *
         * @param trainer the trainer
         * @param configuration what every rank must agree on
         */
        void attach(Trainer trainer, String configuration) {
            if (group != null) {
                trainer.dataParallel(group, configuration);
            } else if (world != null && trainer.model().device() instanceof CudaDevice gpu) {
                // One GPU per process: NCCL's communicator is made once the device exists.
                gpuGroup = new NcclProcessGroup(world, gpu, timeout, err);
                trainer.dataParallel(gpuGroup, configuration);
            }
        }

        /**
         * The device this process trains on: under a launcher, {@code cuda} means the GPU of this
         * process's local rank (one process per GPU).
         *
         * @param requested the --device value
         * @return the device to open
         */
        String device(String requested) {
            return world != null && requested.equals("cuda") ? "cuda:" + launch.localRank() : requested;
        }

        /**
         * Makes every batch norm of {@code model} synchronise its statistics over the processes
         * (before the model is built).
         *
         * @param model the model, not built yet
         * @param enabled whether --sync-bn was given
         * @param out where to say what it did
         */
        void synchronizeBatchNorm(Model model, boolean enabled, PrintStream out) {
            if (!enabled) {
                return;
            }
            if (group == null) {
                out.println("--sync-bn: one process, so batch statistics are already those of the whole batch");
                return;
            }
            int layers = 0;
            for (Layer layer : model.leaves().values()) {
                if (layer instanceof BatchNorm norm) {
                    norm.synchronize(group);
                    layers++;
                }
            }
            out.printf("--sync-bn: %d batch-norm layer%s normalise over the global batch of %d processes%n", layers,
                    layers == 1 ? "" : "s", group.size());
        }

        /** {@return the all-reduce's cost so far, or null} */
        String communicationSummary() {
            return group != null ? group.communicationSummary() : gpuGroup != null ? "gradients summed by NCCL after backward" : null;
        }

        /**
         * A failure on one rank: the others would wait for it in their next collective, so after
         * saying what happened the whole job ends (MPI_Abort).
         *
         * @param problem what went wrong
         * @param err where to say it
         */
        void abortOn(Exception problem, PrintStream err) {
            if (world == null) {
                return;
            }
            finished = true;
            err.printf("isthmus: rank %d of %d: %s; ending the job%n", world.rank(), world.size(), problem.getMessage());
            err.flush();
            try {
                Thread.sleep(300); // lets the other ranks print their own view of a shared failure first
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            world.abort(1);
        }

        @Override
        public void close() {
            finished = true;
            if (signalNotice != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(signalNotice);
                } catch (IllegalStateException shuttingDown) {
                    // Already shutting down: the notice runs, and says nothing since finished is set.
                }
            }
            if (group != null) {
                group.close();
            }
            if (gpuGroup != null) {
                gpuGroup.close();
            }
            if (world != null) {
                world.close();
            }
        }
    }

    /**
     * Opens MPI when a launcher started this process with others.
     *
     * @param device the --device value: cpu (MPI) or cuda (NCCL, one GPU per process)
     * @param checkpoint the checkpoint file, for the message when the job is ended
     * @param err where the watchdog and the exit notice report
     * @return the session (alone: nothing opened)
     */
    Session open(String device, Path checkpoint, PrintStream err) {
        Launch launch = Launch.fromEnvironment();
        Duration timeout = Duration.ofSeconds(Math.max(1, timeoutSeconds));
        if (!launch.distributed()) {
            return new Session(launch, null, null, timeout, checkpoint, err);
        }
        boolean gpu = device.equals("cuda") || device.startsWith("cuda:");
        if (!gpu && !device.equals("cpu")) {
            throw new UsageException("train: under " + launch.launcher() + " with " + launch.size() + " processes, say where each "
                    + "trains: --device cpu (MPI) or --device cuda (one GPU per process, by local rank; NCCL), not " + device);
        }
        if (gpu && syncBatchNorm) {
            throw new UsageException("train: --sync-bn is built for CPU processes; on GPUs batch norm keeps each process's "
                    + "statistics");
        }
        if (gpu) {
            NativeLibrary.NCCL.load(); // names every place tried when NCCL is missing
        }
        if (!(bucketMegabytes >= 0) || bucketMegabytes > 1024) {
            throw new UsageException("train: --bucket-mb must be in [0, 1024], got " + bucketMegabytes);
        }
        if (timeoutSeconds < 1) {
            throw new UsageException("train: --collective-timeout must be at least 1 second, got " + timeoutSeconds);
        }
        MpiCommunicator world = MpiCommunicator.open();
        try {
            MpiProcessGroup group = gpu ? null : new MpiProcessGroup(world, (long) (bucketMegabytes * (1 << 20)), timeout, err);
            return new Session(launch, world, group, timeout, checkpoint, err);
        } catch (RuntimeException failed) {
            world.close();
            throw failed;
        }
    }

    /**
     * The CPU threads each process gets by default: the cores shared out among the processes on
     * this host (OMPI_COMM_WORLD_LOCAL_SIZE), so that two ranks on two cores do not each start two.
     *
     * @param requested --threads (0: choose)
     * @return the threads to use (0: the device's own default)
     */
    static int threadsPerProcess(int requested) {
        if (requested > 0) {
            return requested;
        }
        String local = System.getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (local == null || !Launch.fromEnvironment().distributed()) {
            return 0;
        }
        try {
            int processes = Integer.parseInt(local.strip());
            return Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, processes));
        } catch (NumberFormatException notNumber) {
            return 0;
        }
    }

    /** {@return a stream that drops what it is given: the output of ranks other than 0} */
    static PrintStream discard() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
