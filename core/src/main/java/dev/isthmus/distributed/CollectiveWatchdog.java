package dev.isthmus.distributed;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Ends a data-parallel job that would otherwise wait forever. A rank blocked in a collective
 * cannot tell a slow peer from a hung one, and MPI has no timeout of its own: so every collective
 * is entered here, and a daemon thread checks once a second that none has been running longer
 * than the timeout. When one has, it prints on standard error which rank, which collective and
 * for how long, and ends the whole job with MPI_Abort (each survivor's message names its side).
 * A peer that dies outright is noticed sooner by the launcher (mpirun ends the job when a process
 * exits abnormally); the watchdog covers a peer that stops without dying.
 */
public final class CollectiveWatchdog implements AutoCloseable {
    /** Who is in a collective: the training thread or the gradient-communication thread. */
    public enum Slot {
        /** Broadcasts, sums and checks called by the training loop. */
        TRAINING,
        /** The gradient buckets' all-reduces. */
        COMMUNICATION
    }

    private static final long IDLE = 0;

    private final MpiCommunicator world;
    private final long timeoutNanos;
    private final PrintStream err;
    private final AtomicLongArray since = new AtomicLongArray(Slot.values().length);
    private final AtomicReferenceArray<String> what = new AtomicReferenceArray<>(Slot.values().length);
    private final Watch[] watches = new Watch[Slot.values().length];
    private final Thread thread;
    private volatile boolean stopping;

    /**
     * Starts watching.
     *
     * @param world   the communicator whose job is aborted
     * @param timeout how long one collective may take (the first steps compile code: minutes, not seconds)
     * @param err     where the message goes
     */
    public CollectiveWatchdog(MpiCommunicator world, Duration timeout, PrintStream err) {
        if (world == null || timeout == null || err == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("CollectiveWatchdog: a communicator, a positive timeout and a stream are needed");
        }
        this.world = world;
        this.timeoutNanos = timeout.toNanos();
        this.err = err;
        for (Slot slot : Slot.values()) {
            watches[slot.ordinal()] = new Watch(slot);
        }
        this.thread = new Thread(this::checkEverySecond, "isthmus-collective-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * A collective begins on {@code slot}'s thread.
     *
     * @param slot which thread
     * @param description what it is, for the message
     */
    public void enter(Slot slot, String description) {
        what.set(slot.ordinal(), description);
        since.set(slot.ordinal(), Math.max(1, System.nanoTime()));
    }

    /**
     * The collective on {@code slot}'s thread has returned.
     *
     * @param slot which thread
     */
    public void exit(Slot slot) {
        since.set(slot.ordinal(), IDLE);
    }

    /**
     * A collective begins on {@code slot}'s thread and ends when the returned watch closes: the
     * form of {@link #enter}/{@link #exit} for a try-with-resources statement, so the exit cannot
     * be forgotten on an exception. The watch is made once per slot, so collectives run every step
     * allocate nothing here (a lambda capturing the step's tensors would).
     *
     * @param slot which thread
     * @param description what it is, for the message
     * @return the watch to close when the collective has returned
     */
    public Watch watch(Slot slot, String description) {
        enter(slot, description);
        return watches[slot.ordinal()];
    }

    /** One slot's collective in progress; closing it is {@link #exit}. */
    public final class Watch implements AutoCloseable {
        private final Slot slot;

        private Watch(Slot slot) {
            this.slot = slot;
        }

        /** The collective has returned. */
        @Override
        public void close() {
            exit(slot);
        }
    }

    private void checkEverySecond() {
        while (!stopping) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException interrupted) {
                return;
            }
            for (Slot slot : Slot.values()) {
                long started = since.get(slot.ordinal());
                if (started != IDLE && System.nanoTime() - started > timeoutNanos) {
                    err.printf("isthmus: rank %d of %d: %s has not finished after %d s: another process is hung or has "
                                    + "died; ending the job (MPI_Abort). The last checkpoint, if any, is intact.%n",
                            world.rank(), world.size(), what.get(slot.ordinal()), timeoutNanos / 1_000_000_000L);
                    err.flush();
                    world.abort(3);
                }
            }
        }
    }

    /** Stops watching. */
    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
    }
}
