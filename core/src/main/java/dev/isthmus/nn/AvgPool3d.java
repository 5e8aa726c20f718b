package dev.isthmus.nn;

import dev.isthmus.device.Dims3;
import dev.isthmus.device.PoolMode;

/**
 * Average pooling over NCDHW volumes (PyTorch's nn.AvgPool3d without divisor_override):
 * count_include_pad (the default, as there) divides by the window clipped to the padded input,
 * otherwise by the input elements in the window.
 */
public final class AvgPool3d extends Pool3d {
    private final boolean countIncludePad;

    private AvgPool3d(Dims3 kernel, Dims3 stride, Dims3 padding, boolean ceilMode, boolean countIncludePad) {
        super(kernel, stride, padding, ceilMode);
        this.countIncludePad = countIncludePad;
    }

    /**
     * A cubic window with stride = kernel, no padding, padding counted.
     *
     * @param kernel the window's size along every axis
     * @return the layer
     */
    public static AvgPool3d of(int kernel) {
        return of(Dims3.cube(kernel));
    }

    /**
     * A window of these sizes with stride = kernel and no padding.
     *
     * @param kernel the window's depth, height and width
     * @return the layer
     */
    public static AvgPool3d of(Dims3 kernel) {
        return new AvgPool3d(kernel, kernel, Dims3.cube(0), false, true);
    }

    /**
     * A copy with this stride on every axis.
     *
     * @param stride the stride
     * @return a copy with this stride
     */
    public AvgPool3d stride(int stride) {
        return stride(Dims3.cube(stride));
    }

    /**
     * A copy with this stride along each axis.
     *
     * @param stride the stride along depth, height and width
     * @return a copy with this stride
     */
    public AvgPool3d stride(Dims3 stride) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * A copy with this padding on both sides of every axis (zeros).
     *
     * @param padding the padding, at most half the kernel
     * @return a copy with this padding
     */
    public AvgPool3d padding(int padding) {
        return padding(Dims3.cube(padding));
    }

    /**
     * A copy with this padding on both sides of each axis (zeros).
     *
     * @param padding the padding along depth, height and width, at most half the kernel
     * @return a copy with this padding
     */
    public AvgPool3d padding(Dims3 padding) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * A copy whose output size rounds up (PyTorch's {@code ceil_mode}), keeping a last partial
     * window that starts inside the input or its left padding.
     *
     * @param ceilMode true to round up, false (the default) to round down
     * @return a copy with this rounding
     */
    public AvgPool3d ceilMode(boolean ceilMode) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * A copy that does or does not count padded positions in each window's divisor (PyTorch's
     * {@code count_include_pad}, default yes).
     *
     * @param countIncludePad true to divide by the window clipped to the padded input, false by the input elements in it
     * @return a copy with this divisor
     */
    public AvgPool3d countIncludePad(boolean countIncludePad) {
        return configured(new AvgPool3d(kernel, stride, padding, ceilMode, countIncludePad));
    }

    @Override
    protected PoolMode mode() {
        // Called from the base constructor, before countIncludePad is set: the mode only matters
        // for validation there, which both averages share.
        return countIncludePad ? PoolMode.AVERAGE_INCLUDE_PADDING : PoolMode.AVERAGE_EXCLUDE_PADDING;
    }

    @Override
    protected AvgPool3d with(Dims3 kernel, Dims3 stride, Dims3 padding, boolean ceilMode) {
        return new AvgPool3d(kernel, stride, padding, ceilMode, countIncludePad);
    }

    @Override
    public String describe() {
        return "AvgPool3d(" + window() + (countIncludePad ? "" : ", count_include_pad=false") + ")";
    }
}
