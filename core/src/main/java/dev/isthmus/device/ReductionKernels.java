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

        /**
         * counts += a segmentation batch's pixel counts (see {@link ReductionKernels#countSegmentation}).
         *
         * @param logits the logits, [N, C, H, W], row-major or channels-last
         * @param labels the labels, I32 [N, H, W]
         * @param ignoreIndex the label of pixels that count for nothing
         * @param counts the I32 [2 + 3·C] counts added to
         */
        void countSegmentation(Tensor logits, Tensor labels, int ignoreIndex, Tensor counts);
    }

    /** Where the correct pixels are counted in {@link #countSegmentation}'s vector. */
    public static final int SEGMENTATION_CORRECT = 0;
    /** Where the counted (not ignored) pixels are counted in {@link #countSegmentation}'s vector. */
    public static final int SEGMENTATION_COUNTED = 1;

    /**
     * The length of {@link #countSegmentation}'s vector for {@code classes} classes: 2 + 3·classes.
     *
     * @param classes the classes C
     * @return 2 + 3·classes
     */
    public static int segmentationCountsLength(int classes) {
        return 2 + 3 * classes;
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

    /**
     * Adds a segmentation batch's pixel counts to {@code counts} (I32 [2 + 3·C]): at
     * {@link #SEGMENTATION_CORRECT} the pixels whose predicted class is their label, at
     * {@link #SEGMENTATION_COUNTED} the pixels counted, then for each class c at 2 + c the pixels
     * predicted c and labelled c (the intersection), at 2 + C + c those predicted c, at 2 + 2C + c
     * those labelled c: what pixel accuracy and {@link dev.isthmus.metric.DiceScore}'s Dice are
     * computed from. The predicted class is torch.argmax's over the C logits of a pixel (NaN above
     * every number, the first maximum on ties). Pixels labelled {@code ignoreIndex}, or with a label
     * outside [0, C) (the loss on the same labels reports those), count for nothing. Nothing is
     * read on the host. The caller keeps each count below 2^31 (read and reset in time).
     *
     * @param logits the logits, [N, C, H, W] (any activation layout)
     * @param labels the labels, I32 [N, H, W]
     * @param ignoreIndex the label of pixels that count for nothing
     * @param counts the I32 [2 + 3·C] counts added to
     */
    public void countSegmentation(Tensor logits, Tensor labels, int ignoreIndex, Tensor counts) {
        final String op = "countSegmentation";
        Checks.floating(op, "logits", logits, device);
        Checks.tensor(op, "labels", labels, device, DType.I32);
        Checks.tensor(op, "counts", counts, device, DType.I32);
        int[] dims = logits.shape().dims();
        if (dims.length != 4) {
            throw new IllegalArgumentException(op + ": logits " + logits.shape() + " must be [N, C, H, W]");
        }
        if (!labels.shape().equals(dev.isthmus.tensor.Shape.of(dims[0], dims[2], dims[3]))) {
            throw new IllegalArgumentException(op + ": labels " + labels.shape() + " must be [N, H, W] = ["
                    + dims[0] + ", " + dims[2] + ", " + dims[3] + "] for logits " + logits.shape());
        }
        if (counts.elementCount() != segmentationCountsLength(dims[1])) {
            throw new IllegalArgumentException(op + ": counts must hold 2 + 3·C = " + segmentationCountsLength(dims[1])
                    + " elements for logits " + logits.shape() + ", got " + counts.shape());
        }
        if (labels.elementCount() == 0) {
            return;
        }
        try (Device.Guard ignored = device.enter()) {
            backend.countSegmentation(logits, labels, ignoreIndex, counts);
        }
    }
}
