package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Inverted dropout: in training each element is zeroed with probability p and the rest scaled by
 * 1/(1 − p); in eval mode the layer is the identity. Masks come from a counter-based generator
 * (seed, call counter, element), so a seed replays the same masks on every device, and the counter
 * is saved with checkpoints so that a resumed run continues the same sequence. Backward after an
 * eval forward is the identity's, as PyTorch's.
 */
public final class Dropout extends Layer {
    private final float p;
    private long seed;
    private long calls;
    private Tensor output;
    private Tensor mask;

    /**
     * PyTorch's {@code Dropout(p)}: in training, zeroes each element with probability p and scales the others by 1/(1 − p).
     *
     * @param p the probability of zeroing an element, in [0, 1)
     */
    public Dropout(float p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout(" + p + "): p must be in [0, 1)");
        }
        this.p = p;
    }

    @Override
    public String describe() {
        return "Dropout(p=" + p + ")";
    }

    /** The seed draws a fresh stream for this layer. */
    @Override
    public void resetParameters(SplittableRandom random) {
        seed = random.nextLong();
        calls = 0;
    }

    /** {@return the seed of this layer's random stream (drawn at initialisation)} */
    public long seed() {
        return seed;
    }

    /**
     * How many training forwards have drawn masks: the generator's position.
     *
     * @return how many training forwards have drawn masks: the generator's position
     */
    public long calls() {
        return calls;
    }

    /**
     * Restores the generator's position (from a checkpoint).
     *
     * @param seed the stream
     * @param calls the draws made so far
     */
    public void restoreGenerator(long seed, long calls) {
        if (calls < 0) {
            throw new IllegalArgumentException(describe() + ": call counter must be >= 0, got " + calls);
        }
        this.seed = seed;
        this.calls = calls;
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        return input;
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        this.output = allocateOutput(device, output);
        this.mask = device.allocateActivation(input);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output, mask);
    }

    /** In eval mode (or with p = 0) the input itself is the output. */
    @Override
    protected boolean forwardReturnsInput() {
        return true;
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        if (!training || p == 0) {
            return x;
        }
        device().activations().dropoutForward(x, output, mask, p, seed, calls++);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        if (p == 0) {
            return gradOutput;
        }
        if (!lastForwardTraining()) {
            // Eval mode is the identity; dy goes into the planned buffer, which the layer before may share.
            device().copy(gradOutput, gradInput());
            return gradInput();
        }
        device().elementwise().mul(gradOutput, mask, gradInput());
        return gradInput();
    }

    /** With p = 0 backward hands dy on unchanged. */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        if (p == 0) {
            return propagatesDown() ? gradOutput : null;
        }
        return super.planGradients(plan, gradOutput);
    }

    /** The generator's seed and position, so that a resumed run draws the same masks. */
    @Override
    public List<Counter> counters() {
        return List.of(new Counter("rng_seed", false, this::seed, value -> seed = value),
                new Counter("rng_calls", false, this::calls, value -> restoreGenerator(seed, value)));
    }
}
