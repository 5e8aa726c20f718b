package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Allocation and the plan factories take the one-thread guard like every kernel: on CUDA they
 * allocate from the caching allocator and run cudnnFind on the device's one cuDNN handle, which
 * another thread's work must not share.
 */
class OneThreadGuardTest {
    private static final ConvGeometry CONV = new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    private static final PoolGeometry POOL = new PoolGeometry(PoolMode.MAX, 2, 3, 8, 8, 2, 2, 2, 2, 0, 0);

    @Test
    void allocationAndPlanFactoriesAreRefusedWhileAnotherThreadUsesTheDevice() throws Exception {
        try (CpuDevice device = new CpuDevice(1, CpuBackend.OPENBLAS)) {
            Map<String, Executable> calls = new LinkedHashMap<>();
            calls.put("allocate", () -> device.allocate(Shape.of(4)).close());
            calls.put("convolution", () -> device.convolution(CONV).close());
            calls.put("pooling", () -> device.pooling(POOL).close());
            calls.put("batchNorm", () -> device.batchNorm(Shape.of(2, 3, 8, 8)).close());

            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread holder = new Thread(() -> {
                try (Device.Guard holding = device.enter()) {
                    held.countDown();
                    done.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }, "holder");
            holder.start();
            assertTrue(held.await(30, TimeUnit.SECONDS));
            try {
                long before = device.allocationCount();
                calls.forEach((name, call) -> {
                    IllegalStateException refused = assertThrows(IllegalStateException.class, call, name);
                    assertTrue(refused.getMessage().contains("in use by thread 'holder'"), name + ": " + refused.getMessage());
                });
                assertEquals(before, device.allocationCount(), "a refused allocation allocates nothing");
            } finally {
                done.countDown();
                holder.join();
            }

            // The guard is released: the same calls now go through from this thread.
            for (Executable call : calls.values()) {
                try {
                    call.execute();
                } catch (Throwable failure) {
                    throw new AssertionError(failure);
                }
            }
            try (Tensor tensor = device.allocate(Shape.of(2))) {
                assertEquals(8, tensor.byteSize());
            }
        }
    }
}
