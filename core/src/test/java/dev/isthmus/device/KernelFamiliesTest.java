package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel families: one instance each per device, dtype validation in every family, the backend chosen once. */
class KernelFamiliesTest {
    @Test
    void familiesAreMadeOncePerDevice() {
        try (Device device = new CpuDevice(1)) {
            assertSame(device.blas(), device.blas());
            assertSame(device.elementwise(), device.elementwise());
            assertSame(device.activations(), device.activations());
            assertSame(device.losses(), device.losses());
            assertSame(device.optimizers(), device.optimizers());
            assertSame(device.reductions(), device.reductions());
        }
    }

    @Test
    void everyFamilyChecksDtypesBeforeTheBackendRuns() {
        try (Device device = new CpuDevice(1);
             Tensor ints = device.allocate(Shape.of(2, 3), DType.I32);
             Tensor floats = device.allocate(Shape.of(2, 3));
             Tensor loss = device.allocate(Shape.of(1))) {
            List<Executable> calls = List.of(
                    () -> device.blas().axpy(1f, ints, floats),
                    () -> device.blas().scale(ints, 2f),
                    () -> device.elementwise().mul(floats, ints, floats),
                    () -> device.activations().forward(Activation.RELU, 0f, ints, floats),
                    () -> device.losses().pointwise(PointwiseLoss.MSE, 1f, floats, ints, loss, null),
                    () -> device.optimizers().sgd(floats, ints, null, 0.1f, 0f, 0f, 0f, false, true),
                    () -> device.reductions().sumOfSquares(ints));
            for (Executable call : calls) {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, call);
                assertTrue(refused.getMessage().contains("I32"), refused.getMessage());
            }
            assertEquals(0.0, device.reductions().sumOfSquares(floats));
        }
    }

    @Test
    void theCpuBackendIsChosenAtConstruction() {
        Shape image = Shape.of(2, 3, 4, 4);
        try (CpuDevice openblas = new CpuDevice(1, CpuBackend.OPENBLAS)) {
            assertEquals(Layout.ROW_MAJOR, openblas.activationLayout(image));
            assertTrue(openblas.backend().startsWith("openblas"), openblas.backend());
        }
        try (CpuDevice auto = new CpuDevice(1)) {
            assertEquals(auto.usesOneDnn() ? Layout.CHANNELS_LAST : Layout.ROW_MAJOR, auto.activationLayout(image));
        }
    }

    @Test
    void theGuardIsOnePreallocatedObjectAndNests() {
        try (Device device = new CpuDevice(1)) {
            Device.Guard outer = device.enter();
            Device.Guard inner = device.enter();
            assertSame(outer, inner);
            inner.close();
            outer.close();
            // Released: another thread may now enter; while held, it may not.
            assertEquals("entered", enterFromAnotherThread(device));
            try (Device.Guard held = device.enter()) {
                assertTrue(enterFromAnotherThread(device).contains("runs one operation at a time"));
            }
        }
    }

    private static String enterFromAnotherThread(Device device) {
        AtomicReference<String> outcome = new AtomicReference<>("did not run");
        Thread other = new Thread(() -> {
            try (Device.Guard entered = device.enter()) {
                outcome.set("entered");
            } catch (IllegalStateException refused) {
                outcome.set(refused.getMessage());
            }
        });
        other.start();
        try {
            other.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        return outcome.get();
    }
}
