package dev.isthmus.nn;

import dev.isthmus.device.Activation;
import dev.isthmus.tensor.Tensor;

/**
 * The binary step (Heaviside) function: 1 for x &gt; 0, else 0, with 0 at x = 0 and for NaN;
 * exactly PyTorch's {@code torch.heaviside(x, torch.tensor(0.))}. For inference and for
 * illustrating why networks need smooth activations: its derivative is 0 wherever it exists, so
 * {@link #backward} refuses (an {@link UnsupportedOperationException} naming the layer, which
 * training reports as its failure) rather than silently returning zeros that would stop every
 * layer below it from learning. As the first layer (nothing below needs a gradient) backward
 * returns null as any first layer does.
 */
public final class BinaryStep extends ElementwiseActivation {
    /** The binary step, {@code heaviside(x, 0)}. */
    public BinaryStep() {
        super(Activation.BINARY_STEP, 0f);
    }

    @Override
    public String describe() {
        return "BinaryStep()";
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        throw new UnsupportedOperationException(describe() + ": has no useful gradient (its derivative is 0 wherever "
                + "it exists), so the layers below it cannot learn through it; use Sigmoid or ReLU to train, or "
                + "freeze the layers below it");
    }
}
