package dev.isthmus.nn;

import dev.isthmus.device.Dims3;
import dev.isthmus.device.PoolMode;

/**
 * Max pooling over NCDHW volumes (PyTorch's nn.MaxPool3d without dilation): padding is −∞, and
 * ceil mode keeps a last partial window that starts inside the input or its left padding.
 * {@code MaxPool3d.of(new Dims3(1, 2, 2))} halves height and width only, as C3D's first pool.
 */
public final class MaxPool3d extends Pool3d {

    private MaxPool3d(Dims3 kernel, Dims3 stride, Dims3 padding, boolean ceilMode) {
        super(kernel, stride, padding, ceilMode);
    }

    /**
     * A cubic window with stride = kernel and no padding: MaxPool3d.of(2) halves each side.
     *
     * @param kernel the window size per axis
     * @return the new layer
     */
    public static MaxPool3d of(int kernel) {
        return of(Dims3.cube(kernel));
    }

    /**
     * {@return one with this window (stride the window, no padding)}
     *
     * @param kernel the window size per axis
     */
    public static MaxPool3d of(Dims3 kernel) {
        return new MaxPool3d(kernel, kernel, Dims3.cube(0), false);
    }

    /**
     * {@return a copy with this stride}
     *
     * @param stride the step between windows per axis
     */
    public MaxPool3d stride(int stride) {
        return stride(Dims3.cube(stride));
    }

    /**
     * {@return a copy with this stride}
     *
     * @param stride the step between windows per axis
     */
    public MaxPool3d stride(Dims3 stride) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * {@return a copy with this padding}
     *
     * @param padding the zero padding per axis
     */
    public MaxPool3d padding(int padding) {
        return padding(Dims3.cube(padding));
    }

    /**
     * {@return a copy with this padding}
     *
     * @param padding the zero padding per axis
     */
    public MaxPool3d padding(Dims3 padding) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * {@return a copy with this ceil mode}
     *
     * @param ceilMode whether output sizes round up (PyTorch's ceil_mode)
     */
    public MaxPool3d ceilMode(boolean ceilMode) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    @Override
    protected PoolMode mode() {
        return PoolMode.MAX;
    }

    @Override
    protected MaxPool3d with(Dims3 kernel, Dims3 stride, Dims3 padding, boolean ceilMode) {
        return new MaxPool3d(kernel, stride, padding, ceilMode);
    }

    @Override
    public String describe() {
        return "MaxPool3d(" + window() + ")";
    }
}
