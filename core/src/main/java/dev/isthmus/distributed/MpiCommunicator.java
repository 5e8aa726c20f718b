package dev.isthmus.distributed;

import dev.isthmus.bindings.mpi.mpi_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * MPI_COMM_WORLD for this process: MPI_Init_thread on open, MPI_Finalize on close. Every call
 * validates its buffers before reaching MPI (a wrong count there would read or write past them)
 * and checks MPI's status. One per process: MPI cannot be initialised twice.
 */
public final class MpiCommunicator implements AutoCloseable {
    /** Open MPI's MPI_IN_PLACE, {@code ((void *) 1)}: the receive buffer is also the send buffer. */
    private static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);

    private final int rank;
    private final int size;
    private final int threadLevel;
    private boolean closed;

    private MpiCommunicator(int rank, int size, int threadLevel) {
        this.rank = rank;
        this.size = size;
        this.threadLevel = threadLevel;
    }

    /**
     * Initialises MPI asking for {@code MPI_THREAD_SERIALIZED}: one thread calls MPI at a time, but
     * not always the same one (the training loop and a gradient-bucket thread may take turns).
     *
     * @throws MpiException when MPI is already running or does not give that thread level
     * @return the open
     */
    public static MpiCommunicator open() {
        if (MpiLibrary.running()) {
            throw new MpiException("MPI_Init_thread: MPI is already initialised in this process (one communicator per process)");
        }
        int required = mpi_h.MPI_THREAD_SERIALIZED();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment provided = arena.allocate(ValueLayout.JAVA_INT);
            MpiLibrary.check("MPI_Init_thread", mpi_h.MPI_Init_thread(MemorySegment.NULL, MemorySegment.NULL, required, provided));
            int level = provided.get(ValueLayout.JAVA_INT, 0);
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            MpiLibrary.check("MPI_Comm_rank", mpi_h.MPI_Comm_rank(MpiHandles.COMM_WORLD.address(), value));
            int rank = value.get(ValueLayout.JAVA_INT, 0);
            MpiLibrary.check("MPI_Comm_size", mpi_h.MPI_Comm_size(MpiHandles.COMM_WORLD.address(), value));
            int size = value.get(ValueLayout.JAVA_INT, 0);
            if (level < required) {
                mpi_h.MPI_Finalize();
                throw new MpiException("MPI_Init_thread: asked for MPI_THREAD_SERIALIZED (" + required + "), the library gives "
                        + level);
            }
            return new MpiCommunicator(rank, size, level);
        }
    }

    /** {@return the rank} */
    public int rank() {
        return rank;
    }

    /** {@return the size} */
    public int size() {
        return size;
    }

    /**
     * The thread level MPI_Init_thread granted (at least MPI_THREAD_SERIALIZED).
     *
     * @return the thread level
     */
    public int threadLevel() {
        return threadLevel;
    }

    /**
     * Sums {@code count} floats of {@code buffer} across all ranks, in place (MPI_Allreduce, MPI_IN_PLACE).
     *
     * @param buffer the buffer
     * @param count how many
     */
    public void allReduceSum(MemorySegment buffer, long count) {
        requireFloats("MPI_Allreduce", buffer, count);
        MpiLibrary.check("MPI_Allreduce", mpi_h.MPI_Allreduce(IN_PLACE, buffer, (int) count,
                MpiHandles.FLOAT.address(), MpiHandles.SUM.address(), MpiHandles.COMM_WORLD.address()));
    }

    /**
     * Sums {@code values} across all ranks, in place, in double precision (MPI_Allreduce of
     * MPI_DOUBLE), through native memory allocated for the call: for sums made now and then (the
     * process groups keep a buffer instead, for sums made every step).
     *
     * @param values this rank's values; every rank's sum on return
     */
    public void allReduceSum(double[] values) {
        requireOpen("MPI_Allreduce");
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException("MPI_Allreduce: no values to sum");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, values);
            allReduceSumDoubles(buffer, values.length);
            MemorySegment.copy(buffer, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
        }
    }

    /**
     * Sums {@code count} doubles of {@code buffer} across all ranks, in place: the allocation-free
     * form for sums made every step (SyncBatchNorm's statistics).
     *
     * @param buffer native memory of at least {@code count} doubles
     * @param count how many
     */
    public void allReduceSumDoubles(MemorySegment buffer, int count) {
        requireOpen("MPI_Allreduce");
        if (buffer == null || !buffer.isNative() || count < 0 || (long) count * Double.BYTES > buffer.byteSize()) {
            throw new IllegalArgumentException("MPI_Allreduce: " + count + " doubles in a buffer of "
                    + (buffer == null ? "null" : buffer.byteSize() + " bytes" + (buffer.isNative() ? "" : " (not native)")));
        }
        MpiLibrary.check("MPI_Allreduce", mpi_h.MPI_Allreduce(IN_PLACE, buffer, count,
                MpiHandles.DOUBLE.address(), MpiHandles.SUM.address(), MpiHandles.COMM_WORLD.address()));
    }

    /**
     * Copies {@code bytes} bytes of {@code root}'s {@code buffer} into every rank's (MPI_Bcast of
     * MPI_BYTE): tensors of any element type.
     *
     * @param buffer the buffer, native memory of at least {@code bytes} bytes
     * @param bytes how many bytes
     * @param root the rank whose bytes are copied
     */
    public void broadcastBytes(MemorySegment buffer, long bytes, int root) {
        requireOpen("MPI_Bcast");
        if (buffer == null || !buffer.isNative() || bytes < 0 || bytes > buffer.byteSize() || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("MPI_Bcast: " + bytes + " bytes of a buffer of "
                    + (buffer == null ? "null" : buffer.byteSize() + " bytes" + (buffer.isNative() ? "" : " (not native)"))
                    + " (at most " + Integer.MAX_VALUE + " bytes per call)");
        }
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("MPI_Bcast: root " + root + " is not a rank of " + size);
        }
        MpiLibrary.check("MPI_Bcast", mpi_h.MPI_Bcast(buffer, (int) bytes, MpiHandles.BYTE.address(), root,
                MpiHandles.COMM_WORLD.address()));
    }

    /**
     * Ends every process of the job (MPI_Abort on MPI_COMM_WORLD): what a rank does when it cannot
     * go on and the others would otherwise wait for it forever. Does not return.
     *
     * @param code the exit status the launcher reports
     */
    public void abort(int code) {
        mpi_h.MPI_Abort(MpiHandles.COMM_WORLD.address(), code);
        Runtime.getRuntime().halt(code == 0 ? 1 : code);
    }

    /**
     * Copies {@code count} floats of {@code root}'s {@code buffer} into every rank's (MPI_Bcast).
     *
     * @param buffer the buffer
     * @param count how many
     * @param root the root
     */
    public void broadcast(MemorySegment buffer, long count, int root) {
        requireFloats("MPI_Bcast", buffer, count);
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("MPI_Bcast: root " + root + " is not a rank of " + size);
        }
        MpiLibrary.check("MPI_Bcast", mpi_h.MPI_Bcast(buffer, (int) count, MpiHandles.FLOAT.address(), root,
                MpiHandles.COMM_WORLD.address()));
    }

    /**
     * Every rank's {@code value}, indexed by rank (MPI_Allgather): e.g. to compare configuration hashes.
     *
     * @param value the values
     * @return the all gather
     */
    public long[] allGather(long value) {
        requireOpen("MPI_Allgather");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mine = arena.allocate(ValueLayout.JAVA_LONG);
            mine.set(ValueLayout.JAVA_LONG, 0, value);
            MemorySegment all = arena.allocate(ValueLayout.JAVA_LONG, size);
            MpiLibrary.check("MPI_Allgather", mpi_h.MPI_Allgather(mine, 1, MpiHandles.LONG.address(), all, 1,
                    MpiHandles.LONG.address(), MpiHandles.COMM_WORLD.address()));
            return all.toArray(ValueLayout.JAVA_LONG);
        }
    }

    /** Waits until every rank has called it (MPI_Barrier). */
    public void barrier() {
        requireOpen("MPI_Barrier");
        MpiLibrary.check("MPI_Barrier", mpi_h.MPI_Barrier(MpiHandles.COMM_WORLD.address()));
    }

    /** MPI_Finalize; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            MpiLibrary.check("MPI_Finalize", mpi_h.MPI_Finalize());
        }
    }

    private void requireFloats(String operation, MemorySegment buffer, long count) {
        requireOpen(operation);
        if (buffer == null || !buffer.isNative()) {
            throw new IllegalArgumentException(operation + ": the buffer must be native (off-heap) memory");
        }
        if (count < 0 || count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(operation + ": count " + count + " is outside [0, " + Integer.MAX_VALUE
                    + "] (MPI counts are C ints; split the buffer)");
        }
        if (count * Float.BYTES > buffer.byteSize()) {
            throw new IllegalArgumentException(operation + ": " + count + " floats need " + count * Float.BYTES
                    + " bytes, the buffer has " + buffer.byteSize());
        }
    }

    private void requireOpen(String operation) {
        if (closed) {
            throw new IllegalStateException(operation + ": the communicator is closed (MPI_Finalize has run)");
        }
    }
}
