package dev.isthmus.nn;

import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.tensor.Shape;

/** The mean over each channel's whole plane: [N, C, H, W] to [N, C, 1, 1] (AdaptiveAvgPool2d(1)). */
public final class GlobalAvgPool2d extends Pool2d {
    /** PyTorch's {@code AdaptiveAvgPool2d(1)}: the mean of each channel's plane. */
    public GlobalAvgPool2d() {
    }

    @Override
    public String describe() {
        return "GlobalAvgPool2d()";
    }

    @Override
    protected PoolGeometry geometry(Shape input) {
        return window(PoolMode.AVERAGE_INCLUDE_PADDING, input, input.dim(2), input.dim(3), input.dim(2), input.dim(3), 0, 0);
    }
}
