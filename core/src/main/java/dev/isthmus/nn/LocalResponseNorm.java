package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * PyTorch's {@code nn.LocalResponseNorm(size, alpha, beta, k)} (AlexNet's normalisation across
 * channels) for [N, C, ...] inputs of rank 3 or more:
 * y[c] = x[c] / (k + alpha/size · Σ x[j]²)^beta, the sum over channels c − size/2 to
 * c + (size − 1)/2 (integer halves), channels beyond the edges counting as zeros while the divisor
 * stays {@code size}, exactly as {@code torch.nn.functional.local_response_norm} pads and
 * average-pools the squares. Even sizes reach one channel further down than up, as PyTorch's do.
 *
 * <p>Computed by the activation family's kernels rather than oneDNN's LRN: oneDNN centres an even
 * window the other way (c − (size−1)/2 to c + size/2), so it would differ from PyTorch there.
 * On the CUDA device odd sizes run on cuDNN's LRN, whose window equals PyTorch's only for odd
 * sizes; even sizes are refused there with that reason.
 */
public final class LocalResponseNorm extends Layer {
    private final int size;
    private final float alpha;
    private final float beta;
    private final float k;
    private Tensor output;
    private Tensor input;

    /**
     * PyTorch's {@code LocalResponseNorm(size, alpha, beta, k)}.
     *
     * @param size the number of neighbouring channels in a window (&gt; 0)
     * @param alpha the multiplicative factor (finite)
     * @param beta the exponent (finite)
     * @param k the additive factor (finite)
     * @throws IllegalArgumentException for a size below 1 or a factor that is not finite
     */
    public LocalResponseNorm(int size, double alpha, double beta, double k) {
        if (size <= 0) {
            throw new IllegalArgumentException("LocalResponseNorm: size must be > 0, got " + size);
        }
        if (!Double.isFinite(alpha) || !Double.isFinite(beta) || !Double.isFinite(k)) {
            throw new IllegalArgumentException("LocalResponseNorm: alpha, beta and k must be finite, got " + alpha
                    + ", " + beta + ", " + k);
        }
        this.size = size;
        this.alpha = (float) alpha;
        this.beta = (float) beta;
        this.k = (float) k;
    }

    /**
     * PyTorch's {@code LocalResponseNorm(size)}: alpha 1e-4, beta 0.75, k 1.
     *
     * @param size the number of neighbouring channels in a window (&gt; 0)
     */
    public LocalResponseNorm(int size) {
        this(size, 1e-4, 0.75, 1.0);
    }

    /** {@return the number of channels in a window} */
    public int size() {
        return size;
    }

    /** {@return the multiplicative factor alpha} */
    public float alpha() {
        return alpha;
    }

    /** {@return the exponent beta} */
    public float beta() {
        return beta;
    }

    /** {@return the additive factor k} */
    public float k() {
        return k;
    }

    @Override
    public String describe() {
        return "LocalResponseNorm(" + size + ", alpha=" + alpha + ", beta=" + beta + ", k=" + k + ")";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() < 3) {
            throw new IllegalArgumentException(describe() + ": expects [N, C, ...] of rank 3 or more (as PyTorch), got "
                    + input);
        }
        return input;
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
        device().activations().localResponseNormForward(size, alpha, beta, k, x, output);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        device().activations().localResponseNormBackward(size, alpha, beta, k, input, gradOutput, gradInput());
        return gradInput();
    }
}
