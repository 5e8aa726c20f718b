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

    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0, true);
    }

    public AvgPool2d(int kernel, int stride, int padding, boolean countIncludePad) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.countIncludePad = countIncludePad;
        MaxPool2d.validate(mode(), kernel, stride, padding);
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
