package dev.isthmus.loss;

import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.tensor.Tensor;

/** A loss computed element by element against a target of the input's shape, then averaged. */
public class ElementwiseLoss extends Loss {
    private final PointwiseLoss kind;
    private final float beta;
    private final String name;

    ElementwiseLoss(PointwiseLoss kind, float beta, String name) {
        this.kind = kind;
        this.beta = beta;
        this.name = name;
    }

    /**
     * (x − y)², averaged (nn.MSELoss).
     *
     * @return the loss
     */
    public static ElementwiseLoss mse() {
        return new ElementwiseLoss(PointwiseLoss.MSE, 0f, "MSELoss()");
    }

    /**
     * |x − y|, averaged (nn.L1Loss).
     *
     * @return the loss
     */
    public static ElementwiseLoss l1() {
        return new ElementwiseLoss(PointwiseLoss.L1, 0f, "L1Loss()");
    }

    /**
     * Huber-like: quadratic below beta, linear above (nn.SmoothL1Loss).
     *
     * @param beta the threshold β between the quadratic and linear parts
     * @return the loss
     */
    public static ElementwiseLoss smoothL1(float beta) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("SmoothL1Loss: beta must be > 0, got " + beta);
        }
        return new ElementwiseLoss(PointwiseLoss.SMOOTH_L1, beta, "SmoothL1Loss(beta=" + beta + ")");
    }

    /**
     * Binary cross-entropy on logits, targets in [0, 1] (nn.BCEWithLogitsLoss).
     *
     * @return the loss
     */
    public static ElementwiseLoss bceWithLogits() {
        return new ElementwiseLoss(PointwiseLoss.BCE_WITH_LOGITS, 0f, "BCEWithLogitsLoss()");
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    protected void compute(Tensor input, Tensor target, Tensor loss, Tensor gradient) {
        input.device().losses().pointwise(kind, beta, input, target, loss, gradient);
    }
}
