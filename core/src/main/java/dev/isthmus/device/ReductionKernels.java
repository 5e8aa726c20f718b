package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/**
 * The reduction family: whole-tensor reductions read on the host (they wait for the device), and
 * metrics counted on the device (read once per epoch, not per step).
 */
public final class ReductionKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        /**
         * Σ x² in double precision; see {@link ReductionKernels#sumOfSquares}.
         *
         * @param x the tensor
         * @return Σ x² in double precision; see {@link ReductionKernels#sumOfSquares}
         */
        double sumOfSquares(Tensor x);

        /**
         * How many elements are NaN or infinite; see {@link ReductionKernels#countNonFinite}.
         *
         * @param x the tensor
         * @return how many elements are NaN or infinite; see {@link ReductionKernels#countNonFinite}
         */
        long countNonFinite(Tensor x);

        /**
         * counter += the rows of logits whose label ranks among the k largest (see {@link #countCorrect}).
         *
         * @param logits the logits, [N, C]
         * @param labels the labels, I32 [N]
         * @param k how many of the largest logits count as a hit
         * @param counter the I32 one-element counter added to
         */
        void countCorrect(Tensor logits, Tensor labels, int k, Tensor counter);
    }

    private final Device device;
    private final Backend backend;

    ReductionKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /**
     * Σ x² in double precision (waits for the device).
     *
     * @param x the tensor
     * @return Σ x² in double precision (waits for the device)
     */
    public double sumOfSquares(Tensor x) {
        Checks.floating("sumOfSquares", "tensor", x, device);
        try (Device.Guard ignored = device.enter()) {
            return backend.sumOfSquares(x);
        }
    }

    /**
     * How many elements are NaN or infinite (waits for the device).
     *
     * @param x the tensor
     * @return how many elements are NaN or infinite (waits for the device)
     */
    public long countNonFinite(Tensor x) {
        Checks.floating("countNonFinite", "tensor", x, device);
        try (Device.Guard ignored = device.enter()) {
            return backend.countNonFinite(x);
        }
    }


    /**
     * Adds to {@code counter} (I32, one element) how many rows of {@code logits} [N, C] rank their
     * label ({@code labels}, I32 [N]) among the {@code k} largest logits. Classes are ranked as
     * torch.topk and torch.argmax rank them: larger first, NaN above every number, and a tie to the
     * lower class index (so with k = 1 a row counts when its label is argmax's first maximal index).
     * A label outside [0, C) never counts and is not read: the loss on the same labels reports it.
     * Nothing is read on the host, so a training loop can count every step and wait once per epoch.
     *
     * @param logits the logits, [N, C]
     * @param labels the labels, I32 [N]
     * @param k how many of the largest logits count as a hit
     * @param counter the I32 one-element counter added to
     */
    public void countCorrect(Tensor logits, Tensor labels, int k, Tensor counter) {
        final String op = "countCorrect";
        Checks.floating(op, "logits", logits, device);
        Checks.tensor(op, "labels", labels, device, DType.I32);
        Checks.tensor(op, "counter", counter, device, DType.I32);
        if (logits.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": logits " + logits.shape() + " must be [N, C]");
        }
        if (labels.shape().rank() != 1 || labels.shape().dim(0) != logits.shape().dim(0)) {
            throw new IllegalArgumentException(op + ": labels " + labels.shape() + " must be [N] for logits "
                    + logits.shape());
        }
        if (counter.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": counter must hold one element, got " + counter.shape());
        }
        if (k < 1 || k > logits.shape().dim(1)) {
            throw new IllegalArgumentException(op + ": k must be in [1, " + logits.shape().dim(1) + "] for logits "
                    + logits.shape() + ", got " + k);
        }
        if (logits.shape().dim(0) == 0) {
            return;
        }
        try (Device.Guard ignored = device.enter()) {
            backend.countCorrect(logits, labels, k, counter);
        }
    }
}
