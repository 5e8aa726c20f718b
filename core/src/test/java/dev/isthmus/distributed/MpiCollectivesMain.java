package dev.isthmus.distributed;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Run by MpiCollectivesTest under mpirun: each rank checks the collectives against values it can
 * compute alone, prints "rank R ok" and exits 0, or exits 1 naming what differed.
 */
public final class MpiCollectivesMain {
    public static void main(String[] args) {
        try (MpiCommunicator world = MpiCommunicator.open(); Arena arena = Arena.ofConfined()) {
            int rank = world.rank();
            int size = world.size();
            int count = 1000;
            MemorySegment values = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            for (int i = 0; i < count; i++) {
                values.setAtIndex(ValueLayout.JAVA_FLOAT, i, rank + i * 0.5f);
            }
            world.allReduceSum(values, count);
            for (int i = 0; i < count; i++) {
                float expected = size * (size - 1) / 2f + size * i * 0.5f;
                float actual = values.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (actual != expected) {
                    fail("allreduce element " + i + ": " + actual + " != " + expected);
                }
            }
            for (int i = 0; i < count; i++) {
                values.setAtIndex(ValueLayout.JAVA_FLOAT, i, rank == 0 ? i : -1);
            }
            world.broadcast(values, count, 0);
            for (int i = 0; i < count; i++) {
                if (values.getAtIndex(ValueLayout.JAVA_FLOAT, i) != i) {
                    fail("broadcast element " + i + ": " + values.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                }
            }
            long[] gathered = world.allGather(100L + rank);
            for (int r = 0; r < size; r++) {
                if (gathered[r] != 100L + r) {
                    fail("allgather from rank " + r + ": " + gathered[r]);
                }
            }
            world.barrier();
            System.out.println("rank " + rank + " of " + size + " ok");
        }
    }

    private static void fail(String message) {
        System.err.println("MpiCollectivesMain: " + message);
        System.exit(1);
    }
}
