package dev.isthmus.nn;

import dev.isthmus.device.Activation;

/** 1 / (1 + exp(-x)). */
public final class Sigmoid extends ElementwiseActivation {
    /** PyTorch's {@code Sigmoid()}. */
    public Sigmoid() {
        super(Activation.SIGMOID, 0f);
    }

    @Override
    public String describe() {
        return "Sigmoid()";
    }
}
