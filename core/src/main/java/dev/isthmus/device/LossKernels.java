package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/** The loss family: softmax cross-entropy and the element-wise losses, each with its gradient. */
public final class LossKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        /**
         * Softmax cross-entropy with label smoothing, averaged; see {@link LossKernels#softmaxCrossEntropy}.
         *
         * @param logits the logits, [N, C]
         * @param labels the class indices, I32 [N]
         * @param labelSmoothing the label smoothing, in [0, 1]
         * @param loss the mean loss, written (one element)
         * @param gradLogits dL/dlogits, written, [N, C]
         */
        void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss, Tensor gradLogits);

        /**
         * An element-wise loss, averaged; see {@link LossKernels#pointwise}.
         *
         * @param kind which loss
         * @param beta Smooth L1's threshold β (unused by the others)
         * @param input the predictions
         * @param target the targets, of the input's shape
         * @param loss the mean loss, written (one element)
         * @param gradInput dL/dinput, written, or null
         */
        void pointwise(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss, Tensor gradInput);

        /**
         * Per-position softmax cross-entropy, averaged; see {@link LossKernels#spatialCrossEntropy}.
         *
         * @param logits the logits, [N, C, d1, ...]
         * @param labels the class indices, I32 [N, d1, ...]
         * @param ignoreIndex the label whose positions count for nothing
         * @param loss the mean loss, written (one element)
         * @param gradLogits dL/dlogits, written, or null
         */
        void spatialCrossEntropy(Tensor logits, Tensor labels, int ignoreIndex, Tensor loss, Tensor gradLogits);

        /**
         * Distillation's soft-target KL divergence, batch-averaged; see {@link LossKernels#softTargetKl}.
         *
         * @param student the student's logits, [N, C]
         * @param teacher the teacher's logits, [N, C]
         * @param temperature the temperature T
         * @param loss the loss, written (one element)
         * @param gradStudent dL/dstudent, written, or null
         */
        void softTargetKl(Tensor student, Tensor teacher, float temperature, Tensor loss, Tensor gradStudent);
    }

    private final Device device;
    private final Backend backend;

    LossKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /**
     * Mean softmax cross-entropy of {@code logits} [N, C] against class indices {@code labels} [N]
     * (I32), with label smoothing as PyTorch defines it. Writes the loss to {@code loss} [1] and,
     * unless null, d loss / d logits to {@code gradLogits}.
     *
     * @param logits the logits, [N, C]
     * @param labels the class indices, I32 [N]
     * @param labelSmoothing the label smoothing, in [0, 1]
     * @param loss the mean loss, written (one element)
     * @param gradLogits dL/dlogits, written, [N, C]
     */
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss,
                                    Tensor gradLogits) {
        final String op = "softmax cross-entropy";
        DType dtype = Checks.floating(op, "logits", logits, device);
        Checks.tensor(op, "labels", labels, device, DType.I32);
        Checks.tensor(op, "loss", loss, device, dtype);
        if (logits.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": logits " + logits.shape() + " must be [N, C]");
        }
        if (labels.shape().rank() != 1 || labels.shape().dim(0) != logits.shape().dim(0)) {
            throw new IllegalArgumentException(op + ": labels " + labels.shape() + " must be [N] for logits "
                    + logits.shape());
        }
        if (logits.shape().dim(0) == 0) {
            throw new IllegalArgumentException(op + ": the batch is empty");
        }
        if (loss.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": loss must hold one element, got " + loss.shape());
        }
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException(op + ": label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        if (gradLogits != null) {
            Checks.tensor(op, "logits gradient", gradLogits, device, dtype);
            Checks.sameShape(op, logits, "logits", gradLogits, "logits gradient");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.softmaxCrossEntropy(logits, labels, labelSmoothing, loss, gradLogits);
        }
    }

    /**
     * Knowledge distillation's soft-target term: KL(softmax(t/T) ‖ softmax(s/T)) summed over the
     * classes and averaged over the batch, PyTorch's
     * {@code KLDivLoss(reduction='batchmean')(log_softmax(s/T), softmax(t/T))} (a class whose
     * teacher probability is 0 adds 0), for student and teacher logits [N, C]. Writes it to
     * {@code loss} [1] and, unless null, its gradient with respect to the student logits,
     * (softmax(s/T) − softmax(t/T)) / (N·T), to {@code gradStudent}.
     *
     * @param student the student's logits, [N, C]
     * @param teacher the teacher's logits, [N, C]
     * @param temperature the temperature T, finite and &gt; 0
     * @param loss the loss, written (one element)
     * @param gradStudent dL/dstudent, written, or null
     */
    public void softTargetKl(Tensor student, Tensor teacher, float temperature, Tensor loss, Tensor gradStudent) {
        final String op = "soft-target KL divergence";
        Checks.f32(op, "student logits", student, device);
        Checks.f32(op, "teacher logits", teacher, device);
        Checks.f32(op, "loss", loss, device);
        if (student.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": student logits " + student.shape() + " must be [N, C]");
        }
        Checks.sameShape(op, student, "student logits", teacher, "teacher logits");
        if (student.shape().dim(0) == 0 || student.shape().dim(1) == 0) {
            throw new IllegalArgumentException(op + ": the logits " + student.shape() + " are empty");
        }
        if (loss.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": loss must hold one element, got " + loss.shape());
        }
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException(op + ": temperature must be finite and > 0, got " + temperature);
        }
        if (gradStudent != null) {
            Checks.f32(op, "student gradient", gradStudent, device);
            Checks.sameShape(op, student, "student logits", gradStudent, "student gradient");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.softTargetKl(student, teacher, temperature, loss, gradStudent);
        }
    }

    /**
     * Softmax cross-entropy over axis 1 at every position: logits [N, C, d1, …] against class
     * indices {@code labels} [N, d1, …] (I32), as PyTorch's CrossEntropyLoss on such shapes (per-pixel
     * classification for segmentation). The loss is the mean over positions whose label is not
     * {@code ignoreIndex} (NaN when every label is ignored, as PyTorch's 0/0); ignored positions get
     * a zero gradient. A label outside [0, C) that is not {@code ignoreIndex} is an error.
     *
     * @param logits the logits
     * @param labels the class indices
     * @param ignoreIndex the label whose positions count for nothing
     * @param loss the loss, written (one element)
     * @param gradLogits dL/dlogits, written, or null
     */
    public void spatialCrossEntropy(Tensor logits, Tensor labels, int ignoreIndex, Tensor loss, Tensor gradLogits) {
        final String op = "spatial cross-entropy";
        DType dtype = Checks.floating(op, "logits", logits, device);
        Checks.tensor(op, "labels", labels, device, DType.I32);
        Checks.tensor(op, "loss", loss, device, dtype);
        int[] dims = logits.shape().dims();
        if (dims.length < 3) {
            throw new IllegalArgumentException(op + ": logits " + logits.shape() + " must be [N, C, d1, ...]");
        }
        int[] expected = new int[dims.length - 1];
        expected[0] = dims[0];
        System.arraycopy(dims, 2, expected, 1, dims.length - 2);
        if (!java.util.Arrays.equals(labels.shape().dims(), expected)) {
            throw new IllegalArgumentException(op + ": labels " + labels.shape() + " must be " + dev.isthmus.tensor.Shape.of(expected)
                    + " for logits " + logits.shape());
        }
        if (labels.elementCount() == 0) {
            throw new IllegalArgumentException(op + ": the batch is empty");
        }
        if (loss.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": loss must hold one element, got " + loss.shape());
        }
        if (gradLogits != null) {
            Checks.tensor(op, "logits gradient", gradLogits, device, dtype);
            Checks.sameShape(op, logits, "logits", gradLogits, "logits gradient");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.spatialCrossEntropy(logits, labels, ignoreIndex, loss, gradLogits);
        }
    }

    /**
     * Mean of an element-wise loss into {@code loss} [1]; unless null, its gradient into {@code gradInput}.
     *
     * @param kind which loss
     * @param beta Smooth L1's threshold β (unused by the others)
     * @param input the predictions
     * @param target the targets, of the input's shape
     * @param loss the mean loss, written (one element)
     * @param gradInput dL/dinput, written, or null
     */
    public void pointwise(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss,
                          Tensor gradInput) {
        final String op = "pointwise loss";
        DType dtype = Checks.floating(op, "input", input, device);
        Checks.tensor(op, "target", target, device, dtype);
        Checks.tensor(op, "loss", loss, device, dtype);
        Checks.sameShape(op, input, "input", target, "target");
        if (input.elementCount() == 0) {
            throw new IllegalArgumentException(op + ": the input is empty");
        }
        if (loss.elementCount() != 1) {
            throw new IllegalArgumentException(op + ": loss must hold one element, got " + loss.shape());
        }
        if (kind == PointwiseLoss.SMOOTH_L1 && !(beta > 0)) {
            throw new IllegalArgumentException(op + ": beta must be > 0, got " + beta);
        }
        if (gradInput != null) {
            Checks.tensor(op, "input gradient", gradInput, device, dtype);
            Checks.sameShape(op, input, "input", gradInput, "input gradient");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.pointwise(kind, beta, input, target, loss, gradInput);
        }
    }

}
