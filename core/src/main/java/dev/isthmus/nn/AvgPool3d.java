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
     * @param kernel the window size per axis
     * @return the new layer
     */
    public static AvgPool3d of(int kernel) {
        return of(Dims3.cube(kernel));
    }

    /**
     * {@return one with this window (stride the window, no padding)}
     *
     * @param kernel the window size per axis
     */
    public static AvgPool3d of(Dims3 kernel) {
        return new AvgPool3d(kernel, kernel, Dims3.cube(0), false, true);
    }

    /**
     * {@return a copy with this stride}
     *
     * @param stride the step between windows per axis
     */
    public AvgPool3d stride(int stride) {
        return stride(Dims3.cube(stride));
    }

    /**
     * {@return a copy with this stride}
     *
     * @param stride the step between windows per axis
     */
    public AvgPool3d stride(Dims3 stride) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * {@return a copy with this padding}
     *
     * @param padding the zero padding per axis
     */
    public AvgPool3d padding(int padding) {
        return padding(Dims3.cube(padding));
    }

    /**
     * {@return a copy with this padding}
     *
     * @param padding the zero padding per axis
     */
    public AvgPool3d padding(Dims3 padding) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * {@return a copy with this ceil mode}
     *
     * @param ceilMode whether output sizes round up (PyTorch's ceil_mode)
     */
    public AvgPool3d ceilMode(boolean ceilMode) {
        return configured(with(kernel, stride, padding, ceilMode));
    }

    /**
     * Whether padded positions count in each window's divisor (PyTorch's default: yes).
     *
     * @param countIncludePad the count include pad
     * @return the count include pad
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
