package dev.isthmus.nn;

import dev.isthmus.device.Activation;

/** x·Φ(x), the exact form (PyTorch's approximate='none'). */
public final class GELU extends ElementwiseActivation {
    /** PyTorch's {@code GELU()} (exact, approximate='none'). */
    public GELU() {
        super(Activation.GELU, 0f);
    }

    @Override
    public String describe() {
        return "GELU()";
    }
}
