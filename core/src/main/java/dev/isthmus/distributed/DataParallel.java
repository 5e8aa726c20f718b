package dev.isthmus.distributed;

import dev.isthmus.device.DeviceKind;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

import java.util.Arrays;

/**
 * The collective steps of data-parallel training on CPUs, on whole tensors (a model's
 * {@code parameterBlock()} and {@code gradientBlock()} are each one contiguous tensor): rank 0's
 * parameters copied to every rank at start, gradients averaged after backward, and every rank's
 * configuration compared before the first step. The first, unbucketed form: one all-reduce of the
 * whole gradient block after backward has finished.
 */
public final class DataParallel {
    private final MpiCommunicator world;

    /**
     * Makes one from its parts.
     *
     * @param world the world
     */
    public DataParallel(MpiCommunicator world) {
        if (world == null) {
            throw new IllegalArgumentException("DataParallel: the communicator is null");
        }
        this.world = world;
    }

    /**
     * Overwrites {@code tensor} on every rank with rank 0's (MPI_Bcast).
     *
     * @param tensor the tensor whose values are written
     */
    public void broadcastFromRankZero(Tensor tensor) {
        requireHostF32("broadcast", tensor);
        world.broadcast(tensor.memory(), tensor.elementCount(), 0);
    }

    /**
     * Replaces {@code gradients} on every rank with the mean over ranks: a sum all-reduce, then a
     * scale by 1/N through the device's BLAS family (PyTorch's DDP averages the same way).
     *
     * @param gradients the gradients
     */
    public void averageInPlace(Tensor gradients) {
        requireHostF32("gradient all-reduce", gradients);
        world.allReduceSum(gradients.memory(), gradients.elementCount());
        if (world.size() > 1) {
            gradients.device().blas().scale(gradients, 1f / world.size());
        }
    }

    /**
     * Refuses to train when the ranks were started differently (another model, batch, seed, data):
     * each rank's hash of its configuration is all-gathered and compared with rank 0's.
     *
     * @param description what was hashed on this rank, for the message
     * @param hash the hash
     * @throws IllegalStateException naming each rank's hash and this rank's description
     */
    public void requireSameConfiguration(long hash, String description) {
        long[] hashes = world.allGather(hash);
        for (int rank = 1; rank < hashes.length; rank++) {
            if (hashes[rank] != hashes[0]) {
                throw new IllegalStateException("data-parallel: the ranks were started with different configurations "
                        + "(hash per rank " + Arrays.toString(Arrays.stream(hashes).mapToObj(Long::toHexString).toArray())
                        + "); rank " + world.rank() + " has " + description);
            }
        }
    }

    private static void requireHostF32(String operation, Tensor tensor) {
        if (tensor == null) {
            throw new IllegalArgumentException("data-parallel " + operation + ": the tensor is null");
        }
        if (tensor.device().kind() != DeviceKind.CPU || tensor.dtype() != DType.F32) {
            throw new IllegalArgumentException("data-parallel " + operation + ": needs an F32 tensor on the CPU (MPI reads "
                    + "host memory), got " + tensor.dtype() + " on " + tensor.device().kind() + " " + tensor.shape());
        }
    }
}
