package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/** The loss family: softmax cross-entropy and the element-wise losses, each with its gradient. */
public final class LossKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor loss, Tensor gradLogits);

        void pointwise(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss, Tensor gradInput);

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

    /** Mean of an element-wise loss into {@code loss} [1]; unless null, its gradient into {@code gradInput}. */
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
