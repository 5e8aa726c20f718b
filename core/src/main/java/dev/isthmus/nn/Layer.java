package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * One stage of the explicit forward/backward pipeline, after Caffe's Layer:
 * <ul>
 *   <li>{@link #setup} checks the input shape, allocates parameters (the first time) and the
 *       output and gradient buffers for that batch shape, and returns the output shape; it runs
 *       again only when the shape changes;</li>
 *   <li>{@link #forward} computes the output and keeps what backward needs;</li>
 *   <li>{@link #backward} takes dL/dy, <em>accumulates</em> parameter gradients, and returns
 *       dL/dx (or null when no earlier layer needs it).</li>
 * </ul>
 * All arithmetic goes through the {@link Device}, so the same layer runs on the CPU and the GPU.
 * The tensors a layer returns are its own buffers, valid until its next forward or backward.
 */
public abstract class Layer implements AutoCloseable {
    private Device device;
    private Shape inputShape;
    private Shape outputShape;
    private boolean parametersCreated;
    private boolean propagateDown = true;
    private boolean forwardInTraining;
    private boolean closed;
    private Tensor lastOutput;
    private Profile profile;
    private GradientBuffers gradientBuffers;
    private Tensor ownGradient;

    /** What the layer is, with its configuration, for messages and summaries: "Conv2d(3, 16, kernel=3x3)". */
    public abstract String describe();

    /**
     * Prepares the layer for inputs of {@code inputShape} on {@code device} and returns the output
     * shape. Repeating it with the same shape does nothing.
     *
     * @throws IllegalArgumentException when the input shape does not fit the layer, naming the layer,
     *                                  the expected and the actual shapes
     */
    public final Shape setup(Device device, Shape inputShape) {
        if (closed) {
            throw new IllegalStateException(describe() + " is closed");
        }
        if (device == null || inputShape == null) {
            throw new IllegalArgumentException(describe() + ": setup needs a device and an input shape");
        }
        if (this.device != null && this.device != device) {
            throw new IllegalStateException(describe() + " lives on " + this.device.name()
                    + "; it cannot be set up again on " + device.name());
        }
        if (inputShape.equals(this.inputShape)) {
            return outputShape;
        }
        Shape output = outputShapeFor(inputShape);
        if (!parametersCreated) {
            createParameters(device);
            parametersCreated = true;
        }
        if (this.inputShape != null) {
            releaseBuffers();
            releaseOwnGradient();
        }
        this.device = device;
        this.inputShape = inputShape;
        this.outputShape = output;
        allocateBuffers(device, inputShape, output);
        forwardInTraining = false;
        lastOutput = null;
        return output;
    }

    /** Validates an input shape and returns the output shape, allocating nothing. */
    protected abstract Shape outputShapeFor(Shape input);

    /**
     * The output shape for an input shape, without setting anything up.
     *
     * @throws IllegalArgumentException when the input does not fit, naming the layer and the shapes
     */
    public final Shape outputShapeOf(Shape input) {
        if (input == null) {
            throw new IllegalArgumentException(describe() + ": input shape is null");
        }
        return outputShapeFor(input);
    }

    /** Allocates parameters and their gradients (once, on the first setup). */
    protected void createParameters(Device device) {
    }

    /** Allocates the per-shape buffers: output, input gradient, saved values, plans. */
    protected abstract void allocateBuffers(Device device, Shape input, Shape output);

    /** Frees what {@link #allocateBuffers} made. */
    protected abstract void releaseBuffers();

    /**
     * Computes the output for {@code x} (of the set-up shape, on the layer's device); in training
     * mode the layer keeps what backward needs.
     *
     * @return the layer's output buffer, valid until its next forward
     */
    public final Tensor forward(Tensor x, boolean training) {
        beginForward(x, training);
        if (profile == null) {
            return lastOutput = doForward(x, training);
        }
        long started = profile.start();
        Tensor output = doForward(x, training);
        profile.stop(this, Profile.Part.FORWARD, started);
        return lastOutput = output;
    }

    /**
     * @param gradOutput dL/dy, of the output shape
     * @return dL/dx, or null when {@link #propagatesDown()} is false
     */
    public final Tensor backward(Tensor gradOutput) {
        beginBackward(gradOutput);
        if (profile == null) {
            return doBackward(gradOutput);
        }
        long started = profile.start();
        Tensor gradInput = doBackward(gradOutput);
        profile.stop(this, Profile.Part.BACKWARD, started);
        return gradInput;
    }

    /**
     * Times this layer and every layer inside it into {@code profile}; null stops timing. A
     * container's time includes its children's; what it does itself (a residual block's addition)
     * is the difference.
     */
    public void profile(Profile profile) {
        this.profile = profile;
        for (Layer child : children().values()) {
            child.profile(profile);
        }
    }

    /** The profile this layer reports to, or null. */
    protected final Profile profiler() {
        return profile;
    }

    /** The forward pass proper; x has been checked. */
    protected abstract Tensor doForward(Tensor x, boolean training);

    /** The backward pass proper; dy has been checked and a training forward came first. */
    protected abstract Tensor doBackward(Tensor gradOutput);

    /** The output of the last forward, or null (for diagnosing where values went non-finite). */
    public final Tensor lastOutput() {
        return lastOutput;
    }

    /** Sub-layers by name, in forward order; empty for a leaf layer. */
    public java.util.Map<String, Layer> children() {
        return java.util.Map.of();
    }

    /** Trainable parameters with names relative to this layer ({@code weight}, {@code conv1.weight}). */
    public List<Parameter> parameters() {
        return List.of();
    }

    /** Non-trainable state saved in checkpoints ({@code running_mean}, {@code running_var}). */
    public List<NamedTensor> buffers() {
        return List.of();
    }

    /** Sets parameters and buffers to PyTorch's default initial values, drawing from {@code random}. */
    public void resetParameters(SplittableRandom random) {
    }

    /** Whether backward computes dL/dx (false for the first layer of a network: nobody needs it). */
    public boolean propagatesDown() {
        return propagateDown;
    }

    public void setPropagateDown(boolean propagateDown) {
        this.propagateDown = propagateDown;
    }

    public final Device device() {
        return device;
    }

    public final Shape inputShape() {
        return inputShape;
    }

    public final Shape outputShape() {
        return outputShape;
    }

    /** Checks x against the set-up shape and device before any work; records the mode for backward. */
    private void beginForward(Tensor x, boolean training) {
        if (inputShape == null) {
            throw new IllegalStateException(describe() + ": forward before setup");
        }
        if (x == null) {
            throw new IllegalArgumentException(describe() + ": input is null");
        }
        x.ensureOpen();
        if (x.device() != device) {
            throw new IllegalArgumentException(describe() + ": input " + x.shape() + " lives on " + x.device().name()
                    + ", the layer on " + device.name());
        }
        if (!x.shape().equals(inputShape)) {
            throw new IllegalArgumentException(describe() + ": input " + x.shape() + " does not match the shape "
                    + inputShape + " the layer was set up for (set it up again for a new shape)");
        }
        forwardInTraining = training;
    }

    /** Checks dy and that a training-mode forward came first. */
    private void beginBackward(Tensor gradOutput) {
        if (!forwardInTraining) {
            throw new IllegalStateException(describe() + ": backward needs a forward in training mode first");
        }
        if (gradOutput == null) {
            throw new IllegalArgumentException(describe() + ": output gradient is null");
        }
        gradOutput.ensureOpen();
        if (gradOutput.device() != device) {
            throw new IllegalArgumentException(describe() + ": output gradient lives on " + gradOutput.device().name()
                    + ", the layer on " + device.name());
        }
        if (!gradOutput.shape().equals(outputShape)) {
            throw new IllegalArgumentException(describe() + ": output gradient " + gradOutput.shape()
                    + " does not match the output shape " + outputShape);
        }
    }

    /**
     * Makes this layer (and every layer inside it) take its input-gradient buffers from
     * {@code buffers}, shared across the model, instead of owning one each. Call before setup.
     */
    public void shareGradients(GradientBuffers buffers) {
        this.gradientBuffers = buffers;
        for (Layer child : children().values()) {
            child.shareGradients(buffers);
        }
    }

    protected final GradientBuffers sharedGradients() {
        return gradientBuffers;
    }

    /**
     * A buffer for dL/dx (of the input shape, in the device's activation layout) that is not
     * {@code reading}: from the model's shared pool, or the layer's own, made on first use.
     */
    protected final Tensor gradientBuffer(Tensor reading) {
        return gradientBuffer(inputShape, reading);
    }

    /** As {@link #gradientBuffer(Tensor)}, for a gradient of another shape (a block's inner sums). */
    protected final Tensor gradientBuffer(Shape shape, Tensor reading) {
        if (gradientBuffers != null) {
            return gradientBuffers.acquire(device, shape, device.activationLayout(shape), reading);
        }
        if (ownGradient == null || !ownGradient.shape().equals(shape)) {
            releaseOwnGradient();
            ownGradient = device.allocateActivation(shape);
        }
        return ownGradient;
    }

    private void releaseOwnGradient() {
        if (ownGradient != null) {
            ownGradient.close();
            ownGradient = null;
        }
    }

    /** Frees parameters and buffers. Closing twice is harmless. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (inputShape != null) {
            releaseBuffers();
        }
        releaseOwnGradient();
        releaseParameters();
    }

    /** Frees what {@link #createParameters} made. */
    protected void releaseParameters() {
    }

    protected static void closeAll(AutoCloseable... resources) {
        for (AutoCloseable resource : resources) {
            if (resource != null) {
                try {
                    resource.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    @Override
    public String toString() {
        return describe();
    }
}
