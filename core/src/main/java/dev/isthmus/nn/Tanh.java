package dev.isthmus.nn;

import dev.isthmus.device.Activation;

/** tanh(x). */
public final class Tanh extends ElementwiseActivation {
    /** PyTorch's {@code Tanh()}. */
    public Tanh() {
        super(Activation.TANH, 0f);
    }

    @Override
    public String describe() {
        return "Tanh()";
    }
}
