package dev.isthmus.nn;

import dev.isthmus.device.Activation;

/** max(0, x). */
public final class ReLU extends ElementwiseActivation {
    /** PyTorch's {@code ReLU()}. */
    public ReLU() {
        super(Activation.RELU, 0f);
    }

    @Override
    public String describe() {
        return "ReLU()";
    }
}
