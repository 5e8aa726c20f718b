package dev.isthmus.bench;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;

/**
 * Whether this CPU computes in BF16, by the check {@code isthmus bench --precision bf16} makes
 * ({@code Device.lowPrecisionSupport}): prints nothing and exits 0 when it does, else prints the
 * reason and exits 1. ci/bench-report asks it before choosing the JMH benchmarks.
 */
public final class Bf16Support {
    private Bf16Support() {
    }

    /**
     * Prints the reason and exits 1 when the CPU device has no BF16 kernels.
     *
     * @param args none
     */
    public static void main(String[] args) {
        String reason;
        try (Device device = new CpuDevice()) {
            reason = device.lowPrecisionSupport(DType.BF16);
        }
        if (reason != null) {
            System.out.println(reason);
            System.exit(1);
        }
    }
}
