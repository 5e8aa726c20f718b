package dev.isthmus.device;

import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Max or average pooling prepared for one geometry on one device (the CPU keeps the arg-max of
 * each window for the backward pass; cuDNN its descriptors). Made by {@link Device#pooling}.
 */
public abstract class PoolingPlan implements AutoCloseable {
    /** The device the plan runs on. */
    protected final Device device;
    /** The window the plan was made for. */
    protected final PoolGeometry geometry;
    private final Shape inputShape;
    private final Shape outputShape;

    /**
     * For subclasses: a plan for {@code geometry} on {@code device}.
     *
     * @param device the device
     * @param geometry the sizes
     */
    protected PoolingPlan(Device device, PoolGeometry geometry) {
        this.device = device;
        this.geometry = geometry;
        this.inputShape = geometry.inputShape();
        this.outputShape = geometry.outputShape();
    }

    /** {@return the window the plan was made for} */
    public PoolGeometry geometry() {
        return geometry;
    }

    /**
     * y = the pooled x; overwrites y.
     *
     * @param x the forward's input
     * @param y the forward's output
     */
    public final void forward(Tensor x, Tensor y) {
        final String op = "pool forward";
        check(op, "input", x, inputShape);
        check(op, "output", y, outputShape);
        try (Device.Guard ignored = device.enter()) {
            doForward(x, y);
        }
    }

    /**
     * dx = the gradient of the last forward (x and y are that forward's tensors); overwrites dx.
     *
     * @param x the forward's input
     * @param y the forward's output
     * @param gradOutput dL/dy
     * @param gradInput dL/dx, written
     */
    public final void backward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        final String op = "pool backward";
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
     * The backend's forward; arguments checked by {@link #forward}.
     *
     * @param x the forward's input
     * @param y the forward's output
     */
    protected abstract void doForward(Tensor x, Tensor y);

    /**
     * The backend's backward; arguments checked by {@link #backward}.
     *
     * @param x the forward's input
     * @param y the forward's output
     * @param gradOutput dL/dy
     * @param gradInput dL/dx, written
     */
    protected abstract void doBackward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput);

    @Override
    public void close() {
    }
}
