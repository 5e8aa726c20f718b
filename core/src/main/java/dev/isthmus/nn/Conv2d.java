package dev.isthmus.nn;

import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * 2-D convolution over NCHW input (PyTorch's nn.Conv2d with padding_mode='zeros'): kernel,
 * stride, padding and dilation per axis, optional bias, and groups. Made by
 * {@code Conv2d.of(in, out, kernel)} and its settings ({@code .stride(2).padding(1).bias(false)}),
 * or the short constructor for the common square case.
 */
public final class Conv2d extends Layer {
    private final int inChannels;
    private final int outChannels;
    private final int kernelHeight;
    private final int kernelWidth;
    private final int strideHeight;
    private final int strideWidth;
    private final int padHeight;
    private final int padWidth;
    private final int dilationHeight;
    private final int dilationWidth;
    private final int groups;
    private final boolean hasBias;

    private final ConvParameters params;
    private ConvolutionPlan plan;
    private Tensor output;
    private Tensor input;
    // Mixed precision only: the input and output gradient in the low precision the plan reads.
    private Tensor lowInput;
    private Tensor lowGradOutput;

    /**
     * A square kernel with equal stride and padding on both axes, no dilation, one group.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernel the kernel size (square)
     * @param stride the stride
     * @param padding the zero padding on each side
     * @param bias whether to have a bias
     */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias) {
        this(inChannels, outChannels, kernel, kernel, stride, stride, padding, padding, 1, 1, 1, bias);
    }

    private Conv2d(int inChannels, int outChannels, int kernelHeight, int kernelWidth, int strideHeight,
                   int strideWidth, int padHeight, int padWidth, int dilationHeight, int dilationWidth, int groups,
                   boolean bias) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelHeight = kernelHeight;
        this.kernelWidth = kernelWidth;
        this.strideHeight = strideHeight;
        this.strideWidth = strideWidth;
        this.padHeight = padHeight;
        this.padWidth = padWidth;
        this.dilationHeight = dilationHeight;
        this.dilationWidth = dilationWidth;
        this.groups = groups;
        this.hasBias = bias;
        this.params = new ConvParameters(bias);
        // Validates every number now, with a nominal input large enough for any kernel.
        geometry(1, Math.max(1, dilationHeight * (kernelHeight - 1) + 1), Math.max(1, dilationWidth * (kernelWidth - 1) + 1));
    }

    /**
     * A {@code kernel}×{@code kernel} convolution with stride 1, no padding, no dilation, one group
     * and a bias, as {@code nn.Conv2d(in, out, kernel)}; the methods below give a copy with one
     * setting changed: {@code Conv2d.of(16, 32, 3).stride(2).padding(1).bias(false)}.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernel the kernel size (square)
     * @return a {@code kernel}×{@code kernel} convolution with stride 1, no padding, no dilation, one group and a bias, as {@code nn.Conv2d(in, out, kernel)}; the methods below give a copy with one setting changed: {@code Conv2d.of(16, 32, 3).stride(2).padding(1).bias(false)}
     */
    public static Conv2d of(int inChannels, int outChannels, int kernel) {
        return new Conv2d(inChannels, outChannels, kernel, kernel, 1, 1, 0, 0, 1, 1, 1, true);
    }

    /**
     * As {@link #of(int, int, int)} with a kernelHeight×kernelWidth kernel.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernelHeight the window's height
     * @param kernelWidth the window's width
     * @return the convolution
     */
    public static Conv2d of(int inChannels, int outChannels, int kernelHeight, int kernelWidth) {
        return new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, 1, 1, 0, 0, 1, 1, 1, true);
    }

    /**
     * {@return this convolution with the same stride in both directions}
     *
     * @param stride the stride
     */
    public Conv2d stride(int stride) {
        return stride(stride, stride);
    }

    /**
     * {@return this convolution with these strides}
     *
     * @param height the height
     * @param width the width
     */
    public Conv2d stride(int height, int width) {
        return copy(new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, height, width, padHeight, padWidth,
                dilationHeight, dilationWidth, groups, hasBias));
    }

    /**
     * Zero padding on each side.
     *
     * @param padding the zero padding on each side
     * @return this convolution with this zero padding
     */
    public Conv2d padding(int padding) {
        return padding(padding, padding);
    }

    /**
     * {@return this convolution with these zero paddings on each side}
     *
     * @param height the height
     * @param width the width
     */
    public Conv2d padding(int height, int width) {
        return copy(new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth, height, width,
                dilationHeight, dilationWidth, groups, hasBias));
    }

    /**
     * {@return this convolution with the same dilation in both directions}
     *
     * @param dilation the dilation in both directions
     */
    public Conv2d dilation(int dilation) {
        return dilation(dilation, dilation);
    }

    /**
     * {@return this convolution with these dilations}
     *
     * @param height the height
     * @param width the width
     */
    public Conv2d dilation(int height, int width) {
        return copy(new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight,
                padWidth, height, width, groups, hasBias));
    }

    /**
     * Channels split into {@code groups} independent convolutions (it must divide both counts).
     *
     * @param groups the number of groups (inChannels and outChannels divisible by it)
     * @return this convolution with {@code groups} groups
     */
    public Conv2d groups(int groups) {
        return copy(new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight,
                padWidth, dilationHeight, dilationWidth, groups, hasBias));
    }

    /**
     * {@return this convolution with or without a bias (PyTorch's default: with)}
     *
     * @param bias whether to have a bias
     */
    public Conv2d bias(boolean bias) {
        return copy(new Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth, padHeight,
                padWidth, dilationHeight, dilationWidth, groups, bias));
    }

    /** The configured copy; a layer already set up has buffers, and settings change before that. */
    private Conv2d copy(Conv2d configured) {
        if (inputShape() != null) {
            throw new IllegalStateException(describe() + ": change settings before setup, not after");
        }
        return configured;
    }

    private ConvGeometry geometry(int batch, int height, int width) {
        return new ConvGeometry(batch, inChannels, height, width, outChannels, kernelHeight, kernelWidth,
                strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups);
    }

    @Override
    public String describe() {
        StringBuilder text = new StringBuilder("Conv2d(").append(inChannels).append(", ").append(outChannels)
                .append(", kernel=").append(kernelHeight).append('x').append(kernelWidth);
        if (strideHeight != 1 || strideWidth != 1) {
            text.append(", stride=").append(strideHeight).append('x').append(strideWidth);
        }
        if (padHeight != 0 || padWidth != 0) {
            text.append(", padding=").append(padHeight).append('x').append(padWidth);
        }
        if (dilationHeight != 1 || dilationWidth != 1) {
            text.append(", dilation=").append(dilationHeight).append('x').append(dilationWidth);
        }
        if (groups != 1) {
            text.append(", groups=").append(groups);
        }
        if (!hasBias) {
            text.append(", bias=false");
        }
        return text.append(')').toString();
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() != 4 || input.dim(1) != inChannels) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + inChannels + ", H, W], got " + input);
        }
        try {
            return geometry(input.dim(0), input.dim(2), input.dim(3)).outputShape();
        } catch (IllegalArgumentException tooSmall) {
            throw new IllegalArgumentException(describe() + ": input " + input + ": " + tooSmall.getMessage());
        }
    }

    @Override
    protected void createParameters(Device device) {
        Shape weightShape = Shape.of(outChannels, inChannels / groups, kernelHeight, kernelWidth);
        params.create(device, weightShape, outChannels);
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        params.reset(random);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        DType operands = precision().operandType();
        plan = device.convolution(geometry(input.dim(0), input.dim(2), input.dim(3)), operands);
        plan.prepare(hasBias, outputType(), inputType());
        this.output = allocateOutput(device, output);
        // Mixed precision: a neighbour in a low-precision run hands its tensor over as is;
        // from an F32 neighbour it is converted into these.
        if (precision().isMixed() && inputType() != operands) {
            lowInput = device.allocate(input, operands, device.activationLayout(input));
        }
        if (precision().isMixed() && outputType() != operands) {
            lowGradOutput = device.allocate(output, operands, device.activationLayout(output));
        }
    }

    @Override
    protected LowPrecisionCarry lowPrecisionCarry() {
        return LowPrecisionCarry.CONVERTS;
    }

    @Override
    protected void releaseBuffers() {
        closeAll(plan, output, lowInput, lowGradOutput);
        lowInput = null;
        lowGradOutput = null;
    }

    @Override
    protected void releaseParameters() {
        params.release();
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        // Mixed precision: autocast's cast of the input; the plan casts the weights itself.
        input = lowInput == null ? x : lowPrecision(x, lowInput);
        plan.forward(input, params.weight(), params.bias(), output);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Tensor dy = lowGradOutput == null ? gradOutput : lowPrecision(gradOutput, lowGradOutput);
        // dW += dL/dW (and db += Σ dy); dx = conv_transpose(dy, W). A frozen layer has no gradients.
        if (!isFrozen()) {
            plan.backwardFilter(input, dy, params.weightGrad(), hasBias ? params.biasGrad() : null);
        }
        if (!propagatesDown()) {
            return null;
        }
        plan.backwardData(dy, params.weight(), gradInput());
        return gradInput();
    }

    /** {@code value} converted into {@code low} (an F32 input in another layout is brought to low's on the way). */
    private Tensor lowPrecision(Tensor value, Tensor low) {
        device().elementwise().convert(value, low);
        return low;
    }

    /** The device plan of the current input shape (null before setup), for profiles. */
    ConvolutionPlan plan() {
        return plan;
    }

    /**
     * The convolution's sizes for the current input shape.
     *
     * @return the convolution's sizes for the current input shape
     */
    public ConvGeometry geometry() {
        Shape input = inputShape();
        if (input == null) {
            throw new IllegalStateException(describe() + ": not set up");
        }
        return geometry(input.dim(0), input.dim(2), input.dim(3));
    }

    @Override
    public List<Parameter> parameters() {
        return params.list();
    }

    /** {@return the input channels} */
    public int inChannels() {
        return inChannels;
    }

    /** {@return the output channels} */
    public int outChannels() {
        return outChannels;
    }
}
