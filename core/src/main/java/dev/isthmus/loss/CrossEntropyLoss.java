package dev.isthmus.loss;

import dev.isthmus.tensor.Tensor;

/**
 * Softmax cross-entropy against class indices (I32), fused with the softmax for numerical
 * stability: PyTorch's nn.CrossEntropyLoss with reduction='mean'. Two forms, as there:
 * <ul>
 *   <li>logits [N, C], labels [N]: classification, with optional label smoothing;</li>
 *   <li>logits [N, C, d1, …] (segmentation: [N, C, H, W]), labels [N, d1, …]: a class per position,
 *       the mean over every position whose label is not {@code ignoreIndex} (PyTorch's default
 *       -100; 255 is the usual "void" of segmentation masks).</li>
 * </ul>
 * The ignore index applies to the second form; in the first every label must lie in [0, C).
 */
public final class CrossEntropyLoss extends Loss {
    /** PyTorch's default ignore_index. */
    public static final int DEFAULT_IGNORE_INDEX = -100;

    private final float labelSmoothing;
    private final int ignoreIndex;

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
        this(labelSmoothing, DEFAULT_IGNORE_INDEX);
    }

    /**
     * Makes one from its parts.
     *
     * @param labelSmoothing the label smoothing ε, in [0, 1)
     * @param ignoreIndex the label whose positions count for nothing
     */
    public CrossEntropyLoss(float labelSmoothing, int ignoreIndex) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("CrossEntropyLoss: label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        this.labelSmoothing = labelSmoothing;
        this.ignoreIndex = ignoreIndex;
    }

    /** {@return the label whose positions count for nothing (segmentation's form only)} */
    public int ignoreIndex() {
        return ignoreIndex;
    }

    /**
     * Per-position cross-entropy for segmentation, positions labelled {@code ignoreIndex} left out.
     *
     * @param ignoreIndex the label whose positions count for nothing
     * @return the ignoring
     */
    public static CrossEntropyLoss ignoring(int ignoreIndex) {
        return new CrossEntropyLoss(0f, ignoreIndex);
    }

    @Override
    public String describe() {
        return "CrossEntropyLoss(" + (labelSmoothing != 0 ? "label_smoothing=" + labelSmoothing : "")
                + (ignoreIndex != DEFAULT_IGNORE_INDEX ? (labelSmoothing != 0 ? ", " : "") + "ignore_index=" + ignoreIndex : "")
                + ")";
    }

    @Override
    protected void compute(Tensor input, Tensor target, Tensor loss, Tensor gradient) {
        if (input.shape().rank() == 2) {
            input.device().losses().softmaxCrossEntropy(input, target, labelSmoothing, loss, gradient);
            return;
        }
        if (labelSmoothing != 0) {
            throw new IllegalArgumentException(describe() + ": label smoothing is implemented for [N, C] logits only, got "
                    + input.shape());
        }
        input.device().losses().spatialCrossEntropy(input, target, ignoreIndex, loss, gradient);
    }
}
