package dev.isthmus.loss;

import dev.isthmus.tensor.Tensor;

/**
 * Softmax cross-entropy on logits [N, C] against class indices [N] (I32), fused with the softmax
 * for numerical stability, with optional label smoothing (PyTorch's nn.CrossEntropyLoss).
 */
public final class CrossEntropyLoss extends Loss {
    private final float labelSmoothing;

    /** PyTorch's {@code CrossEntropyLoss()}: mean over the batch, no label smoothing. */
    public CrossEntropyLoss() {
        this(0f);
    }

    /**
     * PyTorch's {@code CrossEntropyLoss(label_smoothing=labelSmoothing)}.
     *
     * @param labelSmoothing the label smoothing, in [0, 1]
     */
    public CrossEntropyLoss(float labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropyLoss: label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        this.labelSmoothing = labelSmoothing;
    }

    @Override
    public String describe() {
        return "CrossEntropyLoss(" + (labelSmoothing != 0 ? "label_smoothing=" + labelSmoothing : "") + ")";
    }

    @Override
    protected void compute(Tensor input, Tensor target, Tensor loss, Tensor gradient) {
        input.device().losses().softmaxCrossEntropy(input, target, labelSmoothing, loss, gradient);
    }
}
