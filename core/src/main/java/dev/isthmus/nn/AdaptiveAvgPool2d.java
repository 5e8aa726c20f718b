package dev.isthmus.nn;

import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.tensor.Shape;

/**
 * PyTorch's {@code nn.AdaptiveAvgPool2d((oh, ow))}: [N, C, H, W] to [N, C, oh, ow], each output the mean of
 * rows floor(i*H/oh) .. ceil((i+1)*H/oh) and the like for columns.
 *
 * <p>Supported when oh divides H and ow divides W: then every window is the same size (H/oh by W/ow, stride
 * equal to it), PyTorch's windows reduce to a plain average pool and the existing pooling plans (oneDNN,
 * OpenBLAS engine, cuDNN) compute it exactly. Sizes that do not divide need windows of varying size, which no
 * pooling kernel here has yet; they are refused at setup with the shapes named rather than approximated.
 */
public final class AdaptiveAvgPool2d extends Pool2d {
    private final int outHeight;
    private final int outWidth;

    /**
     * PyTorch's {@code AdaptiveAvgPool2d((outHeight, outWidth))}.
     *
     * @param outHeight the output height (> 0)
     * @param outWidth the output width (> 0)
     */
    public AdaptiveAvgPool2d(int outHeight, int outWidth) {
        if (outHeight <= 0 || outWidth <= 0) {
            throw new IllegalArgumentException("AdaptiveAvgPool2d: output size must be > 0, got (" + outHeight + ", "
                    + outWidth + ")");
        }
        this.outHeight = outHeight;
        this.outWidth = outWidth;
    }

    /**
     * PyTorch's {@code AdaptiveAvgPool2d(size)}: a square output.
     *
     * @param size the output height and width (> 0)
     */
    public AdaptiveAvgPool2d(int size) {
        this(size, size);
    }

    @Override
    public String describe() {
        return "AdaptiveAvgPool2d((" + outHeight + ", " + outWidth + "))";
    }

    @Override
    protected PoolGeometry geometry(Shape input) {
        if (input.rank() != 4) {
            throw new IllegalArgumentException(describe() + ": expects [N, C, H, W], got " + input);
        }
        int h = input.dim(2);
        int w = input.dim(3);
        if (h % outHeight != 0 || w % outWidth != 0) {
            throw new IllegalArgumentException(describe() + ": input " + input + " has H=" + h + ", W=" + w
                    + "; only output sizes that divide the input's are supported (uniform windows)");
        }
        int kh = h / outHeight;
        int kw = w / outWidth;
        return window(PoolMode.AVERAGE_INCLUDE_PADDING, input, kh, kw, kh, kw, 0, 0);
    }
}
