package dev.isthmus.nn;

import dev.isthmus.device.Activation;

/** x for x > 0, slope·x otherwise (PyTorch's default slope is 0.01). */
public final class LeakyReLU extends ElementwiseActivation {
    private final float negativeSlope;

    /** PyTorch's {@code LeakyReLU()}: slope 0.01. */
    public LeakyReLU() {
        this(0.01f);
    }

    /**
     * PyTorch's {@code LeakyReLU(negativeSlope)}.
     *
     * @param negativeSlope the slope for x below 0
     */
    public LeakyReLU(float negativeSlope) {
        super(Activation.LEAKY_RELU, checked(negativeSlope));
        this.negativeSlope = negativeSlope;
    }

    private static float checked(float slope) {
        if (!Float.isFinite(slope)) {
            throw new IllegalArgumentException("LeakyReLU: negative slope must be finite, got " + slope);
        }
        return slope;
    }

    /** {@return the negative slope} */
    public float negativeSlope() {
        return negativeSlope;
    }

    @Override
    public String describe() {
        return "LeakyReLU(" + negativeSlope + ")";
    }
}
