package dev.isthmus.device;

import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * A 3-D convolution prepared for one geometry on one device, with {@link ConvolutionPlan}'s
 * contract: every call checks the tensors against the geometry before any native work, and
 * gradient outputs accumulate (+=). Made by {@link Device#convolution3d(Conv3dGeometry)}.
 */
public abstract class Convolution3dPlan implements AutoCloseable {
    /** The device. */
    protected final Device device;
    /** The geometry. */
    protected final Conv3dGeometry geometry;
    // Made once: a training step must not allocate.
    private final Shape inputShape;
    private final Shape outputShape;
    private final Shape weightShape;
    private final Shape biasShape;

    /**
     * Makes one from its parts.
     *
     * @param device the device that runs it
     * @param geometry the sizes
     */
    protected Convolution3dPlan(Device device, Conv3dGeometry geometry) {
        this.device = device;
        this.geometry = geometry;
        this.inputShape = geometry.inputShape();
        this.outputShape = geometry.outputShape();
        this.weightShape = geometry.weightShape();
        this.biasShape = Shape.of(geometry.outChannels());
    }

    /** {@return the geometry} */
    public Conv3dGeometry geometry() {
        return geometry;
    }

    /**
     * Makes now what the first calls would otherwise make (oneDNN's primitives and their
     * buffers), so that a model's memory plan holds it.
     *
     * @param bias whether forward and backwardFilter will be given a bias
     */
    public final void prepare(boolean bias) {
        try (Device.Guard ignored = device.enter()) {
            doPrepare(bias);
        }
    }

    /**
     * y = conv3d(x, weight) + bias (bias may be null).
     *
     * @param x the input
     * @param weight the weights
     * @param bias the bias, or null when the layer has none
     * @param y the output
     */
    public final void forward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        final String op = "conv3d forward";
        check(op, "input", x, inputShape);
        check(op, "weight", weight, weightShape);
        if (bias != null) {
            check(op, "bias", bias, biasShape);
        }
        check(op, "output", y, outputShape);
        try (Device.Guard ignored = device.enter()) {
            doForward(x, weight, bias, y);
        }
    }

    /**
     * dx = conv_transpose3d(dy, weight) (overwrites dx).
     *
     * @param gradOutput dL/dy, of the output shape
     * @param weight the weights
     * @param gradInput dL/dx, written, of the input shape
     */
    public final void backwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        final String op = "conv3d backward data";
        check(op, "output gradient", gradOutput, outputShape);
        check(op, "weight", weight, weightShape);
        check(op, "input gradient", gradInput, inputShape);
        try (Device.Guard ignored = device.enter()) {
            doBackwardData(gradOutput, weight, gradInput);
        }
    }

    /**
     * weightGrad += dL/dweight and, unless {@code biasGrad} is null, biasGrad += Σ dy over batch and space.
     *
     * @param x the input
     * @param gradOutput dL/dy, of the output shape
     * @param weightGrad the weight gradient, accumulated
     * @param biasGrad the bias gradient, accumulated, or null
     */
    public final void backwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        final String op = "conv3d backward filter";
        check(op, "input", x, inputShape);
        check(op, "output gradient", gradOutput, outputShape);
        check(op, "weight gradient", weightGrad, weightShape);
        if (biasGrad != null) {
            check(op, "bias gradient", biasGrad, biasShape);
        }
        try (Device.Guard ignored = device.enter()) {
            doBackwardFilter(x, gradOutput, weightGrad, biasGrad);
        }
    }

    private void check(String op, String role, Tensor tensor, Shape expected) {
        Checks.f32(op, role, tensor, device);
        Checks.shape(op, role, tensor, expected);
    }

    /**
     * Do prepare.
     *
     * @param bias the bias, or null when the layer has none
     */
    protected void doPrepare(boolean bias) {
    }

    /**
     * Do forward.
     *
     * @param x the input
     * @param weight the weights
     * @param bias the bias, or null when the layer has none
     * @param y the output
     */
    protected abstract void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y);

    /**
     * Do backward data.
     *
     * @param gradOutput dL/dy, of the output shape
     * @param weight the weights
     * @param gradInput dL/dx, written, of the input shape
     */
    protected abstract void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput);

    /**
     * Do backward filter.
     *
     * @param x the input
     * @param gradOutput dL/dy, of the output shape
     * @param weightGrad the weight gradient, accumulated
     * @param biasGrad the bias gradient, accumulated, or null
     */
    protected abstract void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad);

    @Override
    public void close() {
    }
}
