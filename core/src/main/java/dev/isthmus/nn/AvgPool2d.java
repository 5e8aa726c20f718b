package dev.isthmus.nn;

import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.tensor.Shape;

/** Average pooling (PyTorch's nn.AvgPool2d; count_include_pad defaults to true as there). */
public final class AvgPool2d extends Pool2d {
    private final int kernel;
    private final int stride;
    private final int padding;
    private final boolean countIncludePad;

    /**
     * A {@code kernel}-square window with stride = kernel, no padding, padded positions counted.
     *
     * @param kernel the window size (square)
     */
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0, true);
    }

    /**
     * PyTorch's {@code AvgPool2d(kernel, stride, padding, count_include_pad=countIncludePad)}.
     *
     * @param kernel the window size (square)
     * @param stride the stride
     * @param padding the zero padding on each side
     * @param countIncludePad whether padded positions count in each window's mean
     */
    public AvgPool2d(int kernel, int stride, int padding, boolean countIncludePad) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.countIncludePad = countIncludePad;
        MaxPool2d.validate(mode(), kernel, stride, padding);
    }

    /**
     * A {@code kernel}-square window with stride = kernel, no padding, padding counted; {@code AvgPool2d.of(3).stride(2).padding(1)}.
     *
     * @param kernel the window size (square)
     * @return a {@code kernel}-square window with stride = kernel, no padding, padding counted; {@code AvgPool2d.of(3).stride(2).padding(1)}
     */
    public static AvgPool2d of(int kernel) {
        return new AvgPool2d(kernel);
    }

    /**
     * A copy with this stride.
     *
     * @param stride the stride
     * @return a copy with this stride
     */
    public AvgPool2d stride(int stride) {
        return configured(new AvgPool2d(kernel, stride, padding, countIncludePad));
    }

    /**
     * A copy with this zero padding on each side.
     *
     * @param padding the zero padding on each side
     * @return a copy with this zero padding on each side
     */
    public AvgPool2d padding(int padding) {
        return configured(new AvgPool2d(kernel, stride, padding, countIncludePad));
    }

    /**
     * A copy that does (PyTorch's default) or does not count padded positions in each window's mean.
     *
     * @param countIncludePad whether padded positions count in each window's mean
     * @return a copy that does (PyTorch's default) or does not count padded positions in each window's mean
     */
    public AvgPool2d countIncludePad(boolean countIncludePad) {
        return configured(new AvgPool2d(kernel, stride, padding, countIncludePad));
    }

    private AvgPool2d configured(AvgPool2d copy) {
        if (inputShape() != null) {
            throw new IllegalStateException(describe() + ": change settings before setup, not after");
        }
        return copy;
    }

    private PoolMode mode() {
        return countIncludePad ? PoolMode.AVERAGE_INCLUDE_PADDING : PoolMode.AVERAGE_EXCLUDE_PADDING;
    }

    @Override
    public String describe() {
        return "AvgPool2d(kernel=" + kernel + ", stride=" + stride + (padding != 0 ? ", padding=" + padding : "")
                + (countIncludePad ? "" : ", count_include_pad=false") + ")";
    }

    @Override
    protected PoolGeometry geometry(Shape input) {
        return window(mode(), input, kernel, kernel, stride, stride, padding, padding);
    }
}
