package dev.isthmus.nn;

import dev.isthmus.device.Activation;

/** x for x > 0, alpha·(exp(x) − 1) otherwise. */
public final class ELU extends ElementwiseActivation {
    private final float alpha;

    /** PyTorch's {@code ELU()}: alpha 1. */
    public ELU() {
        this(1f);
    }

    /**
     * PyTorch's {@code ELU(alpha)}.
     *
     * @param alpha the scale
     */
    public ELU(float alpha) {
        super(Activation.ELU, checked(alpha));
        this.alpha = alpha;
    }

    private static float checked(float alpha) {
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("ELU: alpha must be finite, got " + alpha);
        }
        return alpha;
    }

    /** {@return the alpha} */
    public float alpha() {
        return alpha;
    }

    @Override
    public String describe() {
        return "ELU(" + alpha + ")";
    }
}
