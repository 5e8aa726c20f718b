package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Maxout (Goodfellow et al. 2013) over axis 1: [N, C, ...] to [N, C / pieces, ...], output channel
 * g the maximum of input channels g·pieces to g·pieces + pieces − 1, as PyTorch's
 * {@code x.view(N, C // k, k, H, W).max(2).values} for images and {@code x.view(N, F // k, k).max(2)}
 * for features. The gradient goes to each group's first maximum (torch.max's index on ties); a NaN
 * counts as the maximum. No parameters: put a Linear or Conv2d of C outputs before it.
 */
public final class Maxout extends Layer {
    private final int pieces;
    private Tensor output;
    private Tensor input;

    /**
     * Maxout over groups of {@code pieces} consecutive channels (or features).
     *
     * @param pieces the channels per group (&gt; 0)
     * @throws IllegalArgumentException for pieces below 1
     */
    public Maxout(int pieces) {
        if (pieces <= 0) {
            throw new IllegalArgumentException("Maxout: pieces must be > 0, got " + pieces);
        }
        this.pieces = pieces;
    }

    /** {@return the channels per group} */
    public int pieces() {
        return pieces;
    }

    @Override
    public String describe() {
        return "Maxout(pieces=" + pieces + ")";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() < 2) {
            throw new IllegalArgumentException(describe() + ": expects [N, C, ...] or [N, F], got " + input);
        }
        if (input.dim(1) % pieces != 0) {
            throw new IllegalArgumentException(describe() + ": input " + input + " has " + input.dim(1)
                    + " channels, which " + pieces + " does not divide");
        }
        int[] dims = input.dims();
        dims[1] /= pieces;
        return Shape.of(dims);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        this.output = device.allocateActivation(output);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output);
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        input = x;
        device().activations().maxoutForward(pieces, x, output);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        device().activations().maxoutBackward(pieces, input, gradOutput, gradInput());
        return gradInput();
    }
}
