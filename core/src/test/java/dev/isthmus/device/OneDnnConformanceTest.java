package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import org.junit.jupiter.api.Assumptions;

/**
 * The CPU device's oneDNN backend against its OpenBLAS + Java backend. Skipped, with the reason,
 * where libdnnl.so.2 is missing (CI installs it, so there it always runs).
 */
class OneDnnConformanceTest extends DeviceConformanceSuite {
    @Override
    protected Device createDevice() {
        try {
            return new CpuDevice(2, CpuBackend.ONEDNN);
        } catch (IllegalStateException unavailable) {
            Assumptions.abort(unavailable.getMessage());
            throw unavailable;
        }
    }
}
