package dev.isthmus.distributed;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Run by DataParallelTest under mpirun: broadcast, gradient averaging and the configuration check
 * on real CPU tensors. Prints "rank R ok" or exits 1 naming what differed. With "die", rank 1 halts
 * while rank 0 is in an all-reduce; with any other argument rank 1 hashes a different configuration
 * and the check must refuse it on every rank.
 */
public final class DataParallelMain {
    public static void main(String[] args) {
        try (MpiCommunicator world = MpiCommunicator.open(); CpuDevice device = new CpuDevice(1)) {
            DataParallel parallel = new DataParallel(world);
            int rank = world.rank();
            if (args.length > 0 && args[0].equals("die")) {
                // Rank 1 dies without MPI_Finalize while rank 0 waits in an all-reduce.
                if (rank == 1) {
                    Runtime.getRuntime().halt(3);
                }
                try (Tensor gradients = device.fromArray(Shape.of(3), 1f, 2f, 3f)) {
                    parallel.averageInPlace(gradients);
                }
                fail("rank 0: the all-reduce returned although rank 1 died");
            }
            if (args.length > 0) {
                try {
                    parallel.requireSameConfiguration(rank == 1 ? 2L : 1L, "model lenet5 batch " + (rank == 1 ? 16 : 32));
                    fail("rank " + rank + ": a mismatched configuration was accepted");
                } catch (IllegalStateException refused) {
                    System.out.println("rank " + rank + " refused: " + refused.getMessage());
                    return;
                }
            }
            parallel.requireSameConfiguration(42L, "the same");
            try (Tensor parameters = device.fromArray(Shape.of(3), rank, rank + 1, rank + 2);
                 Tensor gradients = device.fromArray(Shape.of(3), 2f * rank, 4f * rank, 1f)) {
                parallel.broadcastFromRankZero(parameters);
                expect("parameters", parameters.toFloatArray(), 0f, 1f, 2f);
                parallel.averageInPlace(gradients);
                float mean = world.size() - 1f; // mean of 2r over r < N
                expect("gradients", gradients.toFloatArray(), mean, 2f * mean, 1f);
            }
            System.out.println("rank " + rank + " ok");
        }
    }

    private static void expect(String what, float[] actual, float... expected) {
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(actual[i] - expected[i]) > 1e-6f) {
                fail(what + "[" + i + "] = " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    private static void fail(String message) {
        System.err.println("DataParallelMain: " + message);
        System.exit(1);
    }
}
