package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/** The reduction family: whole-tensor reductions whose result is read on the host (they wait for the device). */
public final class ReductionKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        double sumOfSquares(Tensor x);

        long countNonFinite(Tensor x);
    }

    private final Device device;
    private final Backend backend;

    ReductionKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /** Σ x² in double precision (waits for the device). */
    public double sumOfSquares(Tensor x) {
        Checks.floating("sumOfSquares", "tensor", x, device);
        try (Device.Guard ignored = device.enter()) {
            return backend.sumOfSquares(x);
        }
    }

    /** How many elements are NaN or infinite (waits for the device). */
    public long countNonFinite(Tensor x) {
        Checks.floating("countNonFinite", "tensor", x, device);
        try (Device.Guard ignored = device.enter()) {
            return backend.countNonFinite(x);
        }
    }

}
