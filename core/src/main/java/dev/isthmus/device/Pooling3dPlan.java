package dev.isthmus.device;

import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Max or average pooling over NCDHW volumes prepared for one geometry on one device, with
 * {@link PoolingPlan}'s contract. Made by {@link Device#pooling3d(Pool3dGeometry)}.
 */
public abstract class Pooling3dPlan implements AutoCloseable {
    /** The device. */
    protected final Device device;
    /** The geometry. */
    protected final Pool3dGeometry geometry;
    private final Shape inputShape;
    private final Shape outputShape;

    /**
     * Makes one from its parts.
     *
     * @param device the device that runs it
     * @param geometry the sizes
     */
    protected Pooling3dPlan(Device device, Pool3dGeometry geometry) {
        this.device = device;
        this.geometry = geometry;
        this.inputShape = geometry.inputShape();
        this.outputShape = geometry.outputShape();
    }

    /** {@return the geometry} */
    public Pool3dGeometry geometry() {
        return geometry;
    }

    /**
     * Forward.
     *
     * @param x the input
     * @param y the output
     */
    public final void forward(Tensor x, Tensor y) {
        final String op = "pool3d forward";
        check(op, "input", x, inputShape);
        check(op, "output", y, outputShape);
        try (Device.Guard ignored = device.enter()) {
            doForward(x, y);
        }
    }

    /**
     * dx = the gradient of the last forward (x and y are that forward's tensors); overwrites dx.
     *
     * @param x the input
     * @param y the output
     * @param gradOutput dL/dy, of the output shape
     * @param gradInput dL/dx, written, of the input shape
     */
    public final void backward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        final String op = "pool3d backward";
        check(op, "input", x, inputShape);
        check(op, "output", y, outputShape);
        check(op, "output gradient", gradOutput, outputShape);
        check(op, "input gradient", gradInput, inputShape);
        try (Device.Guard ignored = device.enter()) {
            doBackward(x, y, gradOutput, gradInput);
        }
    }

    private void check(String op, String role, Tensor tensor, Shape expected) {
        Checks.f32(op, role, tensor, device);
        Checks.shape(op, role, tensor, expected);
    }

    /**
     * Do forward.
     *
     * @param x the input
     * @param y the output
     */
    protected abstract void doForward(Tensor x, Tensor y);

    /**
     * Do backward.
     *
     * @param x the input
     * @param y the output
     * @param gradOutput dL/dy, of the output shape
     * @param gradInput dL/dx, written, of the input shape
     */
    protected abstract void doBackward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput);

    @Override
    public void close() {
    }
}
