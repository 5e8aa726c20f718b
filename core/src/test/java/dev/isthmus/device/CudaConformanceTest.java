package dev.isthmus.device;

import dev.isthmus.device.cuda.CudaDevice;
import org.junit.jupiter.api.Tag;

/**
 * The CUDA device against the CPU reference, every op and layer (DESIGN.md §6). On a machine
 * without a usable GPU, CUDA driver, cuBLAS or cuDNN, every case is skipped with the reason that
 * `isthmus info` would give — never passed.
 *
 * <p>Tolerance: cuDNN's convolution algorithms (FFT, Winograd, implicit GEMM with split reductions)
 * sum in other orders than the CPU; in strict FP32 (Isthmus's default: no TF32) they agree to a few
 * units in the 4th significant digit on these sizes, so the bound is 1e-3 relative rather than the
 * CPU backends' 2e-4.
 */
@Tag("gpu")
class CudaConformanceTest extends DeviceConformanceSuite {
    @Override
    protected Device createDevice() {
        return new CudaDevice(0);
    }

    @Override
    protected String unavailableReason() {
        String why = CudaSupport.unavailableReason();
        return why == null ? null : "no usable GPU: " + why;
    }

    @Override
    protected double tolerance() {
        return 1e-3;
    }
}
