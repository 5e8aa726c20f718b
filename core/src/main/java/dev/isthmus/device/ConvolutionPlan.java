package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * A convolution prepared for one geometry on one device: the CPU keeps its im2col workspace, the
 * GPU its cuDNN descriptors, chosen algorithms and workspace. Made by
 * {@link Device#convolution(ConvGeometry)}; every call checks the tensors against the geometry
 * before any native work. Gradient outputs accumulate (+=), as parameter gradients must.
 *
 * <p>A plan's <em>operand type</em> is the type of the two activations the convolution reads, the
 * input and the output gradient: F32, or BF16/F16 for mixed precision (PyTorch's autocast runs
 * convolutions and their backward on low-precision operands). Whatever it is, the weights and bias
 * given are the F32 master copies (the plan converts the weights into its own low-precision copy
 * on each call, fused with the reorder into the format the library wants, so the copy is always
 * the current weights), and what the plan writes (output, input gradient, weight and bias
 * gradients) is F32, accumulated in F32.
 */
public abstract class ConvolutionPlan implements AutoCloseable {
    /** The device the plan runs on. */
    protected final Device device;
    /** The sizes the plan was made for. */
    protected final ConvGeometry geometry;
    // The shapes every call is checked against, made once: a training step must not allocate.
    private final Shape inputShape;
    private final Shape outputShape;
    private final Shape weightShape;
    private final Shape biasShape;
    private final DType operands;
    private PlanTimer timer;

    /**
     * For subclasses: a plan for {@code geometry} on {@code device}.
     *
     * @param device the device
     * @param geometry the sizes
     */
    protected ConvolutionPlan(Device device, ConvGeometry geometry) {
        this(device, geometry, DType.F32);
    }

    /**
     * A plan whose input and output gradient are {@code operands}.
     *
     * @param device   the device it runs on
     * @param geometry the sizes
     * @param operands F32, BF16 or F16
     */
    protected ConvolutionPlan(Device device, ConvGeometry geometry, DType operands) {
        if (operands != DType.F32 && !operands.isLowPrecision()) {
            throw new IllegalArgumentException("convolution: operands are F32, BF16 or F16, not " + operands);
        }
        this.device = device;
        this.geometry = geometry;
        this.operands = operands;
        this.inputShape = geometry.inputShape();
        this.outputShape = geometry.outputShape();
        this.weightShape = geometry.weightShape();
        this.biasShape = Shape.of(geometry.outChannels());
    }

    /** {@return the sizes the plan was made for} */
    public ConvGeometry geometry() {
        return geometry;
    }

    /** {@return the type of the input and output gradient this plan reads (F32, or BF16/F16 for mixed precision)} */
    public DType operandType() {
        return operands;
    }

    /**
     * Makes now what the first calls would otherwise make for activations in the device's layout
     * (oneDNN's primitives and the buffers they use), so that a model's memory plan holds it and
     * a first training step allocates nothing.
     *
     * @param bias whether forward and backwardFilter will be given a bias
     */
    public final void prepare(boolean bias) {
        prepare(bias, DType.F32, DType.F32);
    }

    /**
     * As {@link #prepare(boolean)} for an output and an input gradient of these types: F32, or
     * the operand type where the device {@link Device#carriesLowPrecision carries it} between layers.
     *
     * @param bias whether forward and backwardFilter will be given a bias
     * @param output the type forward writes
     * @param gradInput the type backwardData writes
     */
    public final void prepare(boolean bias, DType output, DType gradInput) {
        try (Device.Guard ignored = device.enter()) {
            checkWritten("conv2d prepare", "output", output);
            checkWritten("conv2d prepare", "input gradient", gradInput);
            doPrepare(bias, output, gradInput);
        }
    }

    /** The types a plan may write: F32, or its operand type where the device carries it. */
    private void checkWritten(String op, String role, DType dtype) {
        if (dtype != DType.F32 && !(dtype == operands && device.carriesLowPrecision(dtype))) {
            throw new IllegalArgumentException(op + ": " + role + " is " + dtype + "; a " + operands + " convolution on "
                    + device.name() + " writes F32" + (operands == DType.F32 ? "" : device.carriesLowPrecision(operands)
                    ? " or " + operands : ""));
        }
    }

    /**
     * Reports the time of every following call to {@code timer}; null stops.
     *
     * @param timer told the time of each call, or null to stop timing
     */
    public final void timeWith(PlanTimer timer) {
        this.timer = timer;
    }

    /**
     * y = conv(x, weight) + bias (bias may be null).
     *
     * @param x the input
     * @param weight the weights, OIHW
     * @param bias the bias, or null
     * @param y the output, written
     */
    public final void forward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        final String op = "conv2d forward";
        check(op, "input", x, inputShape, operands);
        check(op, "weight", weight, weightShape, DType.F32);
        if (bias != null) {
            check(op, "bias", bias, biasShape, DType.F32);
        }
        writtenCheck(op, "output", y, outputShape);
        try (Device.Guard ignored = device.enter()) {
            PlanTimer timing = timer;
            long started = timing == null ? 0 : synchronizedNanos();
            doForward(x, weight, bias, y);
            if (timing != null) {
                timing.timed(PlanTimer.Call.FORWARD, synchronizedNanos() - started);
            }
        }
    }

    /**
     * dx = conv_transpose(dy, weight) (overwrites dx).
     *
     * @param gradOutput dL/dy
     * @param weight the weights, OIHW
     * @param gradInput dL/dx, written
     */
    public final void backwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        final String op = "conv2d backward data";
        check(op, "output gradient", gradOutput, outputShape, operands);
        check(op, "weight", weight, weightShape, DType.F32);
        writtenCheck(op, "input gradient", gradInput, inputShape);
        try (Device.Guard ignored = device.enter()) {
            PlanTimer timing = timer;
            long started = timing == null ? 0 : synchronizedNanos();
            doBackwardData(gradOutput, weight, gradInput);
            if (timing != null) {
                timing.timed(PlanTimer.Call.BACKWARD_DATA, synchronizedNanos() - started);
            }
        }
    }

    /**
     * weightGrad += dL/dweight, and, unless {@code biasGrad} is null, biasGrad += the sum of dy over
     * batch and space (one pass where the library offers it).
     *
     * @param x the input
     * @param gradOutput dL/dy
     * @param weightGrad dL/dw, accumulated
     * @param biasGrad dL/db, accumulated (null without a bias)
     */
    public final void backwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        final String op = "conv2d backward filter";
        check(op, "input", x, inputShape, operands);
        check(op, "output gradient", gradOutput, outputShape, operands);
        check(op, "weight gradient", weightGrad, weightShape, DType.F32);
        if (biasGrad != null) {
            check(op, "bias gradient", biasGrad, biasShape, DType.F32);
        }
        try (Device.Guard ignored = device.enter()) {
            PlanTimer timing = timer;
            long started = timing == null ? 0 : synchronizedNanos();
            doBackwardFilter(x, gradOutput, weightGrad, biasGrad);
            if (timing != null) {
                timing.timed(PlanTimer.Call.BACKWARD_FILTER, synchronizedNanos() - started);
            }
        }
    }

    private long synchronizedNanos() {
        device.synchronize();
        return System.nanoTime();
    }

    private void writtenCheck(String op, String role, Tensor tensor, Shape expected) {
        if (tensor == null) {
            throw new IllegalArgumentException(op + ": " + role + " is null");
        }
        checkWritten(op, role, tensor.dtype());
        check(op, role, tensor, expected, tensor.dtype());
    }

    private void check(String op, String role, Tensor tensor, Shape expected, DType dtype) {
        Checks.tensor(op, role, tensor, device, dtype);
        Checks.shape(op, role, tensor, expected);
    }

    /**
     * Nothing to make ahead by default (cuDNN chooses its algorithms when the plan is made).
     *
     * @param bias the bias, or null
     */
    protected void doPrepare(boolean bias) {
    }

    /**
     * Makes ahead what the calls will use when they write these types; by default
     * {@link #doPrepare(boolean)} (the types are F32 wherever the device does not carry low precision).
     *
     * @param bias whether a bias is given
     * @param output the type forward writes
     * @param gradInput the type backwardData writes
     */
    protected void doPrepare(boolean bias, DType output, DType gradInput) {
        doPrepare(bias);
    }

    /**
     * The backend's forward; arguments checked by {@link #forward}.
     *
     * @param x the input
     * @param weight the weights, OIHW
     * @param bias the bias, or null
     * @param y the output, written
     */
    protected abstract void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y);

    /**
     * The backend's backward to the input; arguments checked by {@link #backwardData}.
     *
     * @param gradOutput dL/dy
     * @param weight the weights, OIHW
     * @param gradInput dL/dx, written
     */
    protected abstract void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput);

    /**
     * The backend's backward to the weights and bias; arguments checked by {@link #backwardFilter}.
     *
     * @param x the input
     * @param gradOutput dL/dy
     * @param weightGrad dL/dw, accumulated
     * @param biasGrad dL/db, accumulated (null without a bias)
     */
    protected abstract void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad);

    @Override
    public void close() {
    }
}
