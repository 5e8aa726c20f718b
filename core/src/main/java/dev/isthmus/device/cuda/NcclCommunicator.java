package dev.isthmus.device.cuda;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.nccl.nccl_h;
import dev.isthmus.bindings.nccl.ncclUniqueId;
import dev.isthmus.device.Device;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One GPU's member of an NCCL communicator: the all-reduce and broadcast of data-parallel
 * training, enqueued on the device's own stream, so they follow the backward kernels that wrote
 * the gradients and precede the optimizer's, with no host wait in between. The communicator is
 * made from a unique id that rank 0 draws and every rank receives out of band (over MPI).
 * Every call validates its tensor (F32, on this device) before reaching NCCL and checks NCCL's status.
 */
public final class NcclCommunicator implements AutoCloseable {
    private final CudaDevice device;
    private final int ranks;
    private final int rank;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment communicator;
    private boolean closed;

    private NcclCommunicator(CudaDevice device, int ranks, int rank, MemorySegment communicator) {
        this.device = device;
        this.ranks = ranks;
        this.rank = rank;
        this.communicator = communicator;
    }

    /**
     * NCCL's version, e.g. "2.30.7", read from the library.
     *
     * @return the version
     */
    public static String version() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment version = local.allocate(ValueLayout.JAVA_INT);
            check(nccl_h.ncclGetVersion(version), "ncclGetVersion", null);
            int code = version.get(ValueLayout.JAVA_INT, 0);
            // NCCL_VERSION(X,Y,Z): X*10000 + Y*100 + Z since 2.9 (X*1000 + Y*100 + Z before).
            return code >= 20900 ? code / 10000 + "." + code / 100 % 100 + "." + code % 100
                    : code / 1000 + "." + code / 100 % 10 + "." + code % 100;
        }
    }

    /**
     * A fresh unique id (ncclGetUniqueId): rank 0 draws it, the launcher's transport hands it to the others.
     *
     * @return its {@code NCCL_UNIQUE_ID_BYTES} bytes
     */
    public static byte[] uniqueId() {
        NativeLibrary.NCCL.load();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment id = ncclUniqueId.allocate(local);
            check(nccl_h.ncclGetUniqueId(id), "ncclGetUniqueId", null);
            return id.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Joins the communicator of {@code ranks} GPUs named by {@code id} as {@code rank}
     * (ncclCommInitRank, which waits for all of them).
     *
     * @param device this process's GPU
     * @param ranks  how many processes (one GPU each)
     * @param rank   this process's index
     * @param id     the unique id rank 0 drew
     * @return the communicator
     */
    public static NcclCommunicator open(CudaDevice device, int ranks, int rank, byte[] id) {
        if (device == null || id == null) {
            throw new IllegalArgumentException("ncclCommInitRank: a CUDA device and the unique id are required");
        }
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("ncclCommInitRank: rank " + rank + " of " + ranks);
        }
        if (id.length != nccl_h.NCCL_UNIQUE_ID_BYTES()) {
            throw new IllegalArgumentException("ncclCommInitRank: the unique id has " + id.length + " bytes, NCCL's has "
                    + nccl_h.NCCL_UNIQUE_ID_BYTES());
        }
        NativeLibrary.NCCL.load();
        try (Device.Guard ignored = device.enterForCollective(); Arena local = Arena.ofConfined()) {
            MemorySegment idSegment = ncclUniqueId.allocate(local);
            MemorySegment.copy(id, 0, idSegment, ValueLayout.JAVA_BYTE, 0, id.length);
            MemorySegment out = local.allocate(ValueLayout.ADDRESS);
            check(nccl_h.ncclCommInitRank(out, ranks, idSegment, rank), "ncclCommInitRank (rank " + rank + " of " + ranks
                    + " on " + device.name() + ")", null);
            return new NcclCommunicator(device, ranks, rank, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** {@return the number of GPUs in the communicator} */
    public int size() {
        return ranks;
    }

    /** {@return this GPU's rank} */
    public int rank() {
        return rank;
    }

    /**
     * Sums {@code tensor} over the ranks, in place, on the device's stream (ncclAllReduce).
     *
     * @param tensor an F32 tensor on this communicator's device
     */
    public void allReduceSum(Tensor tensor) {
        requireOnDevice("ncclAllReduce", tensor);
        try (Device.Guard ignored = device.enterForCollective()) {
            MemorySegment data = tensor.memory();
            check(nccl_h.ncclAllReduce(data, data, tensor.elementCount(), nccl_h.ncclFloat32(), nccl_h.ncclSum(), communicator,
                    device.stream()), "ncclAllReduce of " + tensor.shape(), communicator);
        }
    }

    /**
     * Copies {@code root}'s {@code tensor} into every rank's, on the device's stream (ncclBroadcast).
     *
     * @param tensor an F32 tensor on this communicator's device
     * @param root   the rank whose values are copied
     */
    public void broadcast(Tensor tensor, int root) {
        requireOnDevice("ncclBroadcast", tensor);
        if (root < 0 || root >= ranks) {
            throw new IllegalArgumentException("ncclBroadcast: root " + root + " is not a rank of " + ranks);
        }
        try (Device.Guard ignored = device.enterForCollective()) {
            MemorySegment data = tensor.memory();
            check(nccl_h.ncclBroadcast(data, data, tensor.elementCount(), nccl_h.ncclFloat32(), root, communicator,
                    device.stream()), "ncclBroadcast of " + tensor.shape(), communicator);
        }
    }

    /** Ends this rank's part at once, without waiting for the others (ncclCommAbort): after a peer failed. */
    public void abort() {
        if (!closed) {
            closed = true;
            nccl_h.ncclCommAbort(communicator);
            arena.close();
        }
    }

    /** ncclCommDestroy; idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try (Device.Guard ignored = device.enterForCollective()) {
                check(nccl_h.ncclCommDestroy(communicator), "ncclCommDestroy", null);
            } finally {
                arena.close();
            }
        }
    }

    private void requireOnDevice(String operation, Tensor tensor) {
        if (closed) {
            throw new IllegalStateException(operation + ": the NCCL communicator is closed");
        }
        if (tensor == null || tensor.device() != device || tensor.dtype() != DType.F32) {
            throw new IllegalArgumentException(operation + ": needs an F32 tensor on " + device.name() + ", got "
                    + (tensor == null ? "null" : tensor.dtype() + " " + tensor.shape() + " on " + tensor.device().name()));
        }
    }

    /** Throws on a status other than ncclSuccess, with NCCL's description and its last error text. */
    private static void check(int status, String operation, MemorySegment communicator) {
        if (status == nccl_h.ncclSuccess()) {
            return;
        }
        String description = nccl_h.ncclGetErrorString(status).reinterpret(1024).getString(0);
        String detail = communicator == null ? "" : nccl_h.ncclGetLastError(communicator).reinterpret(4096).getString(0);
        throw new IllegalStateException(operation + " failed: NCCL status " + status + " (" + description + ")"
                + (detail.isEmpty() ? "" : ": " + detail));
    }
}
