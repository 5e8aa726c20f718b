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

    /** oneDNN's ReLU reads and writes BF16 as it does F32, so a mixed-precision run goes through it unconverted. */
    @Override
    protected LowPrecisionCarry lowPrecisionCarry() {
        return LowPrecisionCarry.SAME_TYPE;
    }
}
