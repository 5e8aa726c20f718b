package dev.isthmus.loss;

import dev.isthmus.device.Device;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Hinton et al.'s knowledge distillation: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE(s, y)
 * for student logits s, labels y and the logits t that a trained teacher gives the same batch, the
 * KL averaged over the batch as PyTorch's
 * {@code KLDivLoss(reduction='batchmean')(log_softmax(s/T), softmax(t/T)) * T * T}. T² keeps the
 * soft term's gradient on the scale of the hard one's as T grows.
 *
 * <p>The teacher runs in eval mode, with no gradient, on the batch {@link #observeBatch} was given
 * (a {@link dev.isthmus.train.TrainStep} gives it every batch). It must be built on the student's
 * device and give as many classes; the loss does not close it. Its scratch (two losses and two
 * gradients) is allocated once per batch shape.
 */
public final class DistillationLoss extends Loss {
    private final Model teacher;
    private final float temperature;
    private final float alpha;
    private Tensor teacherLogits;
    private Shape scratchShape;
    private Tensor softLoss;
    private Tensor hardLoss;
    private Tensor softGradient;
    private Tensor hardGradient;

    /**
     * Hinton's loss against {@code teacher}'s logits on the same batch.
     *
     * @param teacher     a trained model on the student's device (built; its batch size follows the student's)
     * @param temperature T &gt; 0, finite: how far both distributions are softened
     * @param alpha       α in [0, 1]: the weight of the soft (teacher) term; 1 − α weighs the labels
     */
    public DistillationLoss(Model teacher, float temperature, float alpha) {
        this(temperature, alpha, teacher);
        if (teacher == null) {
            throw new IllegalArgumentException("DistillationLoss: a teacher model is required");
        }
    }

    /**
     * Without a teacher model: the teacher's logits come from {@link #useTeacherLogits} before
     * each forward (precomputed, or from a model run elsewhere).
     *
     * @param temperature the temperature T
     * @param alpha the weight α of the soft-target term
     */
    public DistillationLoss(float temperature, float alpha) {
        this(temperature, alpha, null);
    }

    private DistillationLoss(float temperature, float alpha, Model teacher) {
        if (teacher != null && teacher.device() == null) {
            throw new IllegalArgumentException("DistillationLoss: build the teacher " + teacher.name() + " on a device first");
        }
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("DistillationLoss: temperature must be finite and > 0, got " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("DistillationLoss: alpha must be in [0, 1], got " + alpha);
        }
        this.teacher = teacher;
        this.temperature = temperature;
        this.alpha = alpha;
    }

    @Override
    public String describe() {
        return "DistillationLoss(teacher=" + (teacher == null ? "logits given" : teacher.name()) + ", T=" + temperature + ", alpha=" + alpha + ")";
    }

    /**
     * The teacher model, or null when its logits are given ({@link #useTeacherLogits}).
     *
     * @return the teacher
     */
    public Model teacher() {
        return teacher;
    }

    /** {@return the temperature} */
    public float temperature() {
        return temperature;
    }

    /** {@return the alpha} */
    public float alpha() {
        return alpha;
    }

    /** Runs the teacher in eval mode on the batch; its logits serve the next {@link #forward}. */
    @Override
    public void observeBatch(Tensor networkInput) {
        if (teacher != null) {
            teacherLogits = teacher.forward(networkInput, false);
        }
    }

    /**
     * Uses {@code logits} as the teacher's for the next forward (when they come from elsewhere: a cache, another process).
     *
     * @param logits the logits
     */
    public void useTeacherLogits(Tensor logits) {
        teacherLogits = logits;
    }

    @Override
    protected void compute(Tensor input, Tensor target, Tensor loss, Tensor gradient) {
        if (teacherLogits == null) {
            throw new IllegalStateException(describe() + ": no teacher logits for this batch (observeBatch gives them)");
        }
        teacherLogits.ensureOpen();
        if (!teacherLogits.shape().equals(input.shape())) {
            throw new IllegalArgumentException(describe() + ": the teacher's logits " + teacherLogits.shape()
                    + " do not match the student's " + input.shape() + " (same batch, same classes)");
        }
        Device device = input.device();
        prepareScratch(device, input.shape());
        boolean wantGradient = gradient != null;
        device.losses().softmaxCrossEntropy(input, target, 0f, hardLoss, wantGradient ? hardGradient : null);
        device.losses().softTargetKl(input, teacherLogits, temperature, softLoss, wantGradient ? softGradient : null);
        float softWeight = alpha * temperature * temperature;
        combine(device, loss, hardLoss, softLoss, softWeight);
        if (wantGradient) {
            combine(device, gradient, hardGradient, softGradient, softWeight);
        }
        if (teacher != null) {
            // One teacher forward per batch: a loss without a new observeBatch would score stale logits.
            teacherLogits = null;
        }
    }

    /** out ← (1 − α)·hard + softWeight·soft. */
    private void combine(Device device, Tensor out, Tensor hard, Tensor soft, float softWeight) {
        device.elementwise().fill(out, 0f);
        device.blas().axpy(1f - alpha, hard, out);
        device.blas().axpy(softWeight, soft, out);
    }

    private void prepareScratch(Device device, Shape shape) {
        if (shape.equals(scratchShape)) {
            return;
        }
        closeScratch();
        softLoss = device.allocate(Shape.of(1));
        hardLoss = device.allocate(Shape.of(1));
        softGradient = device.allocate(shape);
        hardGradient = device.allocate(shape);
        scratchShape = shape;
    }

    private void closeScratch() {
        for (Tensor tensor : new Tensor[] {softLoss, hardLoss, softGradient, hardGradient}) {
            if (tensor != null) {
                tensor.close();
            }
        }
        softLoss = hardLoss = softGradient = hardGradient = null;
        scratchShape = null;
    }

    /** Frees the scratch (the teacher belongs to the caller). */
    @Override
    public void close() {
        super.close();
        closeScratch();
        teacherLogits = null;
    }
}
