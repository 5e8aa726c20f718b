package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.MemoryPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * One stage of the explicit forward/backward pipeline, after Caffe's Layer:
 * <ul>
 *   <li>{@link #setup} checks the input shape, allocates parameters (the first time) and the
 *       output buffer and plans for that batch shape, and returns the output shape; it runs
 *       again only when the shape changes;</li>
 *   <li>{@link #planBackward} is given the buffers its backward writes dL/dx into, once (a model
 *       plans them for all its layers at build; a layer used on its own, at its first backward);</li>
 *   <li>{@link #forward} computes the output and keeps what backward needs;</li>
 *   <li>{@link #backward} takes dL/dy, <em>accumulates</em> parameter gradients, and returns
 *       dL/dx (or null when no earlier layer needs it).</li>
 * </ul>
 * All arithmetic goes through the {@link Device}, so the same layer runs on the CPU and the GPU.
 * The tensors a layer returns are its buffers, valid until its next forward or backward. Inside a
 * model, every allocation the layer and its device plans make during setup comes from the model's
 * memory plan ({@link MemoryPlan}); on its own, the layer owns them.
 */
public abstract class Layer implements AutoCloseable {
    /** For subclasses: a layer not set up yet. */
    protected Layer() {
    }

    private Device device;
    private Shape inputShape;
    private Shape outputShape;
    private boolean parametersCreated;
    private boolean propagateDown = true;
    private boolean forwardInTraining;
    private boolean forwarded;
    private boolean frozen;
    private boolean closed;
    private Tensor lastOutput;
    private LayerHook hook;
    private Tensor gradInput;
    private boolean gradientsPlanned;
    private GradientPlan ownGradients;
    private Precision precision = Precision.FP32;
    private Tensor plannedOutput;
    private boolean inferenceOnly;
    private DType inputType = DType.F32;
    private DType outputType = DType.F32;
    private DType requestedOutputType = DType.F32;

    /**
     * How a leaf layer can hand low-precision activations on under a mixed-precision policy, on a
     * device that {@link Device#carriesLowPrecision carries them}: a container that sees a run
     * convolution → (batch norm | ReLU)* → convolution keeps the whole run in the low precision,
     * so no activation or gradient between them is converted (autocast's layout).
     */
    protected enum LowPrecisionCarry {
        /** Takes and gives F32 only. */
        NONE,
        /** Takes and gives either type, the same on both sides (batch norm, ReLU). */
        SAME_TYPE,
        /** Converts: its input and its output may each be F32 or low precision (a convolution). */
        CONVERTS
    }

    /**
     * How this layer carries low-precision activations (NONE unless a subclass says otherwise).
     *
     * @return how this layer carries low-precision activations
     */
    protected LowPrecisionCarry lowPrecisionCarry() {
        return LowPrecisionCarry.NONE;
    }

    /** For containers, before setup: the types of this layer's input and output (and of dL/dx and dL/dy). */
    final void carryTypes(DType input, DType output) {
        if (input == null || output == null) {
            throw new IllegalArgumentException(describe() + ": activation types must not be null");
        }
        if (inputShape != null && (input != inputType || output != outputType)) {
            // The buffers were made for the old types; the next setup makes them again.
            releaseBuffers();
            forgetGradientPlan();
            inputShape = null;
            outputShape = null;
        }
        inputType = input;
        outputType = output;
        requestedOutputType = output;
    }

    /** For containers, before setup: the input type only (the container chooses its output type; see Sequential). */
    final void carryInputType(DType input) {
        carryTypes(input, outputType);
        requestedOutputType = DType.F32;
    }

    /** For containers: the output type their container asked for. */
    final DType requestedOutputType() {
        return requestedOutputType;
    }

    /** For containers: the output type, once set up. */
    final void declareOutputType(DType output) {
        outputType = output;
    }

    /**
     * The element type of the input forward takes and of dL/dx backward returns: F32, or the
     * policy's low precision inside a run its container keeps in it.
     *
     * @return the element type of the input forward takes and of dL/dx backward returns
     */
    public final DType inputType() {
        return inputType;
    }

    /**
     * The element type of the output forward returns and of dL/dy backward takes.
     *
     * @return the element type of the output forward returns and of dL/dy backward takes
     */
    public final DType outputType() {
        return outputType;
    }

    /**
     * What the layer is, with its configuration, for messages and summaries: "Conv2d(3, 16, kernel=3x3)".
     *
     * @return what the layer is, with its configuration, for messages and summaries: "Conv2d(3, 16, kernel=3x3)"
     */
    public abstract String describe();

    /**
     * Prepares the layer for inputs of {@code inputShape} on {@code device} and returns the output
     * shape. Repeating it with the same shape does nothing.
     *
     * @param device the device
     * @param inputShape the input shape
     * @return the output shape
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
            // Parameters and running statistics outlive a change of batch size: a model's memory
            // plan keeps them apart from the per-batch buffers.
            MemoryPlan.longLived(device, () -> createParameters(device));
            parametersCreated = true;
        }
        if (this.inputShape != null) {
            releaseBuffers();
        }
        forgetGradientPlan();
        this.device = device;
        this.inputShape = inputShape;
        this.outputShape = output;
        plannedOutput = null;
        // A model's inference plan needs to know whose buffers these are, to tell how long each lives.
        MemoryPlan.owned(device, this, () -> allocateBuffers(device, inputShape, output));
        forwardInTraining = false;
        forwarded = false;
        lastOutput = null;
        return output;
    }

    /**
     * The precision policy this layer and the layers inside it compute in (FP32 unless set);
     * only convolutions and linear layers act on it. Set before {@link #setup}: a model sets it
     * from its own before it sets the layers up.
     *
     * @param precision the policy (FP32, BF16 or FP16)
     */
    public final void setPrecision(Precision precision) {
        if (precision == null) {
            throw new IllegalArgumentException(describe() + ": precision must not be null");
        }
        if (inputShape != null && precision != this.precision) {
            throw new IllegalStateException(describe() + ": set the precision before setup, not after");
        }
        this.precision = precision;
        for (Layer child : children().values()) {
            child.setPrecision(precision);
        }
    }

    /**
     * {@return the precision policy this layer computes in}
     */
    public final Precision precision() {
        return precision;
    }

    /**
     * Validates an input shape and returns the output shape, allocating nothing.
     *
     * @param input the input shape
     * @return the output shape
     */
    protected abstract Shape outputShapeFor(Shape input);

    /**
     * The output shape for an input shape, without setting anything up.
     *
     * @param input the input shape
     * @return the output shape for an input shape, without setting anything up
     * @throws IllegalArgumentException when the input does not fit, naming the layer and the shapes
     */
    public final Shape outputShapeOf(Shape input) {
        if (input == null) {
            throw new IllegalArgumentException(describe() + ": input shape is null");
        }
        return outputShapeFor(input);
    }

    /**
     * Allocates parameters, their gradients and running statistics (once, on the first setup).
     *
     * @param device the device
     */
    protected void createParameters(Device device) {
    }

    /**
     * Allocates the per-shape buffers: output, saved values, plans.
     *
     * @param device the device
     * @param input the input shape
     * @param output the output shape
     */
    protected abstract void allocateBuffers(Device device, Shape input, Shape output);

    /** Frees what {@link #allocateBuffers} made. */
    protected abstract void releaseBuffers();

    /**
     * Allocates, in {@link #allocateBuffers}, the buffer that {@link #forward} returns (in the
     * device's activation layout). Declaring it lets a model built for inference only
     * ({@link Model#inferenceOnly}) keep it until the next layer has read it and share every other
     * buffer this layer allocates per batch (saved inputs, masks, indices, workspaces) with other
     * layers: so an eval-mode forward must write those before it reads them. A layer that does not
     * declare its output keeps all its buffers, and its input, alive until the next layer has run.
     *
     * @param device the device
     * @param shape the output shape
     * @return the output buffer
     */
    protected final Tensor allocateOutput(Device device, Shape shape) {
        plannedOutput = device.allocate(shape, outputType, device.activationLayout(shape));
        return plannedOutput;
    }

    /**
     * Whether {@link #forward} may return its input (or a view of it) instead of the buffer of
     * {@link #allocateOutput}: dropout in eval mode, a flatten that reshapes. An inference plan
     * then keeps the input alive as long as the output.
     *
     * @return false unless a subclass says otherwise
     */
    protected boolean forwardReturnsInput() {
        return false;
    }

    /** The buffer declared with {@link #allocateOutput} for the current shape, or null. */
    final Tensor plannedOutput() {
        return plannedOutput;
    }

    /** For the inference plan: {@link #forwardReturnsInput()}, readable from the package. */
    final boolean returnsInput() {
        return forwardReturnsInput();
    }

    /** Whether this layer belongs to a model built for inference only (its buffers may then be shared). */
    final boolean isInferenceOnly() {
        return inferenceOnly;
    }

    /** Marks this layer and those inside it as part of an inference-only model: backward and training forwards are refused. */
    final void setInferenceOnly(boolean inferenceOnly) {
        this.inferenceOnly = inferenceOnly;
        for (Layer child : children().values()) {
            child.setInferenceOnly(inferenceOnly);
        }
    }

    /**
     * Computes the output for {@code x} (of the set-up shape, on the layer's device); in training
     * mode the layer keeps what backward needs.
     *
     * @param x the input, of the set-up shape, on the layer's device
     * @param training true in training mode (keep what backward needs), false in eval mode
     * @return the layer's output buffer, valid until its next forward
     */
    public final Tensor forward(Tensor x, boolean training) {
        beginForward(x, training);
        LayerHook observer = hook;
        if (observer == null) {
            return lastOutput = doForward(x, training);
        }
        observer.beforeForward(this);
        Tensor output = doForward(x, training);
        observer.afterForward(this);
        return lastOutput = output;
    }

    /**
     * Computes dL/dx from dL/dy for the last training forward, accumulating the parameters' gradients.
     *
     * @param gradOutput dL/dy, of the output shape
     * @return dL/dx, or null when {@link #propagatesDown()} is false
     */
    public final Tensor backward(Tensor gradOutput) {
        beginBackward(gradOutput);
        if (!gradientsPlanned) {
            // Used on its own, not in a model: the layer plans and owns its gradient buffers.
            GradientPlan own = new GradientPlan(device);
            try {
                planBackward(own, gradOutput);
                own.allocate();
            } catch (RuntimeException failure) {
                own.close();
                throw failure;
            }
            ownGradients = own;
        }
        LayerHook observer = hook;
        if (observer == null) {
            return doBackward(gradOutput);
        }
        observer.beforeBackward(this);
        Tensor gradient = doBackward(gradOutput);
        observer.afterBackward(this);
        return gradient;
    }

    /**
     * Gives this layer (and every layer inside it) the buffers its backward writes, once, from
     * {@code plan}, for a backward that reads {@code gradOutput}.
     *
     * @param plan the model's gradient plan
     * @param gradOutput dL/dy, of the output shape
     * @return the tensor backward will return (or one sharing its memory), or null when it
     *         returns none; the layer before reads it
     */
    public final Tensor planBackward(GradientPlan plan, Tensor gradOutput) {
        if (inputShape == null) {
            throw new IllegalStateException(describe() + ": set it up before planning its gradients");
        }
        if (plan == null || gradOutput == null) {
            throw new IllegalArgumentException(describe() + ": planning gradients needs a plan and the gradient backward"
                    + " will read (GradientPlan.outside for one from outside the network)");
        }
        forgetGradientPlan();
        Tensor gradient = planGradients(plan, gradOutput);
        gradientsPlanned = true;
        return gradient;
    }

    /**
     * Takes from {@code plan} the buffers backward will write and returns what backward will
     * return. A leaf that computes dL/dx only when it propagates down takes one buffer of the
     * input shape; a layer that hands dy on unchanged returns {@code gradOutput}; a container
     * plans its children in backward order.
     *
     * @param plan the model's gradient plan
     * @param gradOutput dL/dy, of the output shape
     * @return the buffer backward will return, or null
     */
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        useGradInput(plan.buffer(inputShape, inputType, gradOutput));
        return gradInput;
    }

    /**
     * Makes {@code buffer} the one {@link #gradInput()} returns (when planning gradients).
     *
     * @param buffer the buffer
     */
    protected final void useGradInput(Tensor buffer) {
        this.gradInput = buffer;
    }

    /**
     * The buffer this layer's backward writes dL/dx into, as planned.
     *
     * @return the buffer this layer's backward writes dL/dx into, as planned
     */
    protected final Tensor gradInput() {
        if (gradInput == null) {
            throw new IllegalStateException(describe() + ": no input-gradient buffer was planned");
        }
        return gradInput;
    }

    private void forgetGradientPlan() {
        gradInput = null;
        gradientsPlanned = false;
        if (ownGradients != null) {
            ownGradients.close();
            ownGradients = null;
        }
    }

    /** Calls {@code hook} around this layer's forward and backward (null removes it), and its children's. */
    final void setHook(LayerHook hook) {
        this.hook = hook;
        for (Layer child : children().values()) {
            child.setHook(hook);
        }
    }

    /**
     * The forward pass proper; x has been checked.
     *
     * @param x the input, of the set-up shape, on the layer's device
     * @param training true in training mode (keep what backward needs), false in eval mode
     * @return the output
     */
    protected abstract Tensor doForward(Tensor x, boolean training);

    /**
     * The backward pass proper; dy has been checked and a forward came first, in either mode
     * ({@link #lastForwardTraining()}): after an eval forward it is the gradient of the eval-mode
     * function, as PyTorch's (batch norm frozen on its running statistics, dropout the identity).
     *
     * @param gradOutput dL/dy, of the output shape
     * @return dL/dx, or null when the layer does not propagate down
     */
    protected abstract Tensor doBackward(Tensor gradOutput);

    /**
     * The output of the last forward, or null (for diagnosing where values went non-finite).
     *
     * @return the output of the last forward, or null (for diagnosing where values went non-finite)
     */
    public final Tensor lastOutput() {
        return lastOutput;
    }

    /**
     * Sub-layers by name, in forward order; empty for a leaf layer.
     *
     * @return sub-layers by name, in forward order; empty for a leaf layer
     */
    public java.util.Map<String, Layer> children() {
        return java.util.Map.of();
    }

    /**
     * Trainable parameters with names relative to this layer ({@code weight}, {@code conv1.weight}).
     *
     * @return trainable parameters with names relative to this layer ({@code weight}, {@code conv1.weight})
     */
    public List<Parameter> parameters() {
        return List.of();
    }

    /**
     * Non-trainable state saved in checkpoints ({@code running_mean}, {@code running_var}).
     *
     * @return non-trainable state saved in checkpoints ({@code running_mean}, {@code running_var})
     */
    public List<NamedTensor> buffers() {
        return List.of();
    }

    /**
     * Whole-number state saved in checkpoints ({@code num_batches_tracked}, a generator's position).
     *
     * @return whole-number state saved in checkpoints ({@code num_batches_tracked}, a generator's position)
     */
    public List<Counter> counters() {
        return List.of();
    }

    /**
     * Sets parameters and buffers to PyTorch's default initial values, drawing from {@code random}.
     *
     * @param random the generator drawn from
     */
    public void resetParameters(SplittableRandom random) {
    }

    /**
     * Whether backward computes dL/dx (false for the first layer of a network: nobody needs it).
     *
     * @return whether backward computes dL/dx (false for the first layer of a network: nobody needs it)
     */
    public boolean propagatesDown() {
        return propagateDown;
    }

    /**
     * Sets whether backward computes dL/dx.
     *
     * @param propagateDown whether backward computes dL/dx
     */
    public void setPropagateDown(boolean propagateDown) {
        this.propagateDown = propagateDown;
    }

    /** {@return the device the layer is set up on} */
    public final Device device() {
        return device;
    }

    /** {@return the input shape the layer is set up for} */
    public final Shape inputShape() {
        return inputShape;
    }

    /** {@return the output shape for the set-up input} */
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
        if (x.dtype() != inputType) {
            throw new IllegalArgumentException(describe() + ": input " + x.shape() + " is " + x.dtype() + "; the layer takes "
                    + inputType);
        }
        if (training && inferenceOnly) {
            throw new IllegalStateException(describe() + ": part of a model built for inference only (Model.inferenceOnly),"
                    + " whose layers share activation memory; a training-mode forward needs a model built for training");
        }
        forwardInTraining = training;
        forwarded = true;
    }

    /**
     * Whether the last forward ran in training mode (what backward differentiates).
     *
     * @return whether last forward training
     */
    protected final boolean lastForwardTraining() {
        return forwardInTraining;
    }

    /**
     * Freezes (or thaws) every parameter of this layer and its children: backward then adds
     * nothing to their gradients (PyTorch's {@code requires_grad_(False)}), while dL/dx still
     * flows through when an earlier layer needs it. A container passes it on to its children.
     *
     * @param frozen the frozen
     */
    public void setFrozen(boolean frozen) {
        this.frozen = frozen;
        for (Layer child : children().values()) {
            child.setFrozen(frozen);
        }
    }

    /**
     * Whether backward leaves this layer's parameter gradients alone.
     *
     * @return whether is frozen
     */
    public final boolean isFrozen() {
        return frozen;
    }

    /**
     * Whether this layer or one inside it has a parameter that is not frozen: backward must reach
     * it, and a layer before it must compute dL/dx for it.
     *
     * @return whether has trainable parameters
     */
    public boolean hasTrainableParameters() {
        if (children().isEmpty()) {
            return !frozen && !parameters().isEmpty();
        }
        for (Layer child : children().values()) {
            if (child.hasTrainableParameters()) {
                return true;
            }
        }
        return false;
    }

    /** Checks dy and that a forward came first. */
    private void beginBackward(Tensor gradOutput) {
        if (inferenceOnly) {
            throw new IllegalStateException(describe() + ": part of a model built for inference only (Model.inferenceOnly):"
                    + " its layers share activation memory and keep nothing backward needs; build the model without"
                    + " inferenceOnly to take gradients");
        }
        if (!forwarded) {
            throw new IllegalStateException(describe() + ": backward needs a forward first");
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
        if (gradOutput.dtype() != outputType) {
            throw new IllegalArgumentException(describe() + ": output gradient " + gradOutput.shape() + " is "
                    + gradOutput.dtype() + "; the layer's output is " + outputType);
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
        forgetGradientPlan();
        releaseParameters();
    }

    /** Frees what {@link #createParameters} made. */
    protected void releaseParameters() {
    }

    /**
     * Closes every resource that is not null.
     *
     * @param resources the resources, any of them null
     */
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
