package dev.isthmus.loss;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * A scalar objective averaged over the batch (PyTorch's reduction='mean'). {@link #forward}
 * writes the loss to a one-element device tensor and, when asked, dL/dinput in the same pass (the
 * fused form costs nothing extra); {@link #backward} hands that gradient to the network.
 */
public abstract class Loss implements AutoCloseable {
    /** For subclasses. */
    protected Loss() {
    }

    private Device device;
    private Shape inputShape;
    private Tensor loss;
    private Tensor gradient;
    private boolean gradientReady;

    /** {@return the loss and its settings, for messages and logs} */
    public abstract String describe();

    /**
     * Computes the mean loss of {@code input} against {@code target}, and its gradient when asked.
     *
     * @param input           the network's output
     * @param target          labels (I32 [N]) for classification losses, values of the input's shape otherwise
     * @param computeGradient whether {@link #backward} will be called
     * @return the loss, a one-element tensor on the input's device
     */
    public final Tensor forward(Tensor input, Tensor target, boolean computeGradient) {
        if (input == null || target == null) {
            throw new IllegalArgumentException(describe() + ": input and target must not be null");
        }
        input.ensureOpen();
        if (device != null && input.device() != device) {
            throw new IllegalArgumentException(describe() + ": input lives on " + input.device().name()
                    + ", the loss was used on " + device.name());
        }
        if (!input.shape().equals(inputShape)) {
            closeBuffers();
            device = input.device();
            inputShape = input.shape();
            loss = device.allocate(Shape.of(1));
            gradient = device.allocate(inputShape);
        }
        compute(input, target, loss, computeGradient ? gradient : null);
        gradientReady = computeGradient;
        return loss;
    }

    /**
     * dL/dinput of the last forward, which must have asked for it.
     *
     * @return dL/dinput, of the input's shape
     */
    public final Tensor backward() {
        if (!gradientReady) {
            throw new IllegalStateException(describe() + ": backward needs a forward with computeGradient first");
        }
        return gradient;
    }

    /**
     * The last loss, read on the host (waits for the device).
     *
     * @return the last loss, read on the host (waits for the device)
     */
    public final float value() {
        if (loss == null) {
            throw new IllegalStateException(describe() + ": no forward yet");
        }
        return loss.item();
    }

    /**
     * Writes the mean loss into {@code loss} and, unless {@code gradient} is null, dL/dinput into it.
     *
     * @param input the input
     * @param target the targets, of the input's shape
     * @param loss the loss
     * @param gradient a gradient buffer of the plan
     */
    protected abstract void compute(Tensor input, Tensor target, Tensor loss, Tensor gradient);

    /**
     * Told the network's input of the batch whose output {@link #forward} will score next (a
     * {@link dev.isthmus.train.TrainStep} calls it before each loss): nothing by default; a loss that
     * needs more than the output and the labels, such as {@link DistillationLoss}'s teacher, looks here.
     *
     * @param networkInput the network input
     */
    public void observeBatch(Tensor networkInput) {
    }

    private void closeBuffers() {
        if (loss != null) {
            loss.close();
            gradient.close();
        }
    }

    @Override
    public void close() {
        closeBuffers();
        loss = null;
        inputShape = null;
        gradientReady = false;
    }

    @Override
    public String toString() {
        return describe();
    }
}
