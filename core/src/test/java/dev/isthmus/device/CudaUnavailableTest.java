package dev.isthmus.device;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without a GPU, `auto` falls back to the CPU and says why, and `cuda` fails with the same reason. */
class CudaUnavailableTest {
    @Test
    void autoExplainsItsChoiceAndCudaExplainsItsFailure() {
        String why = CudaSupport.unavailableReason();
        Devices.Choice choice = Devices.open("auto", 1);
        try (Device device = choice.device()) {
            if (why == null) {
                assertEquals(DeviceKind.CUDA, device.kind());
                return;
            }
            assertEquals(DeviceKind.CPU, device.kind());
            assertTrue(choice.reason().startsWith("CUDA unavailable: "), choice.reason());
            assertTrue(choice.reason().contains(why), choice.reason());
        }
        IllegalStateException failure = assertThrows(IllegalStateException.class, () -> Devices.open("cuda", 1));
        assertTrue(failure.getMessage().startsWith("cuda:0 is unavailable: "), failure.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Devices.open("cuda:-1", 1));
        assertThrows(IllegalArgumentException.class, () -> Devices.open("tpu", 1));
    }
}
