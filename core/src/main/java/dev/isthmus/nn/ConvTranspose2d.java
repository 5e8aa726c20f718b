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
 * 2-D transposed convolution over NCHW input (PyTorch's {@code nn.ConvTranspose2d}, padding_mode
 * 'zeros'): the gradient of a convolution with respect to its input, used to upsample. Weight
 * {@code [in, out/groups, kH, kW]} and bias {@code [out]} as PyTorch names and initialises them;
 * output size {@code (H-1)·stride - 2·padding + dilation·(k-1) + output_padding + 1} per axis.
 *
 * <p>Why no kernel of its own: a transposed convolution from {@code in} to {@code out} channels
 * is exactly the backward-data pass of the <em>adjoint</em> convolution from {@code out} to
 * {@code in} channels over the transposed convolution's output, whose OIHW weight has the shape
 * of this layer's weight. So forward is that plan's {@code backwardData}, dL/dx its
 * {@code forward}, and dL/dW its {@code backwardFilter} with the roles of input and output
 * gradient swapped; the same plan runs on oneDNN, OpenBLAS (col2im) and cuDNN alike. The bias and
 * its gradient are the element-wise family's per-channel kernels.
 *
 * <p>Under a mixed-precision policy it reads its input and output gradient in BF16/F16, as
 * autocast's {@code conv_transpose2d}, with F32 weights, outputs and gradients, as {@link Conv2d}.
 *
 * <p>One departure: PyTorch accepts an output_padding that is not smaller than the stride when it
 * is smaller than the dilation; the adjoint convolution cannot produce those extra rows, so that
 * case is refused with its reason.
 */
public final class ConvTranspose2d extends Layer {
    private final int inChannels;
    private final int outChannels;
    private final int kernelHeight;
    private final int kernelWidth;
    private final int strideHeight;
    private final int strideWidth;
    private final int padHeight;
    private final int padWidth;
    private final int outputPadHeight;
    private final int outputPadWidth;
    private final int dilationHeight;
    private final int dilationWidth;
    private final int groups;
    private final boolean hasBias;

    private final ConvParameters params;
    private ConvolutionPlan adjoint;
    private Tensor output;
    private Tensor input;
    // Mixed precision only: the input and output gradient in the low precision the plan reads.
    private Tensor lowInput;
    private Tensor lowGradOutput;

    /**
     * A square transposed convolution with PyTorch's positional arguments.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernel the kernel size (square)
     * @param stride the stride
     * @param padding the implicit zero padding removed from each side of the output
     * @param outputPadding extra rows and columns added to one side of the output (smaller than the stride)
     * @param dilation the spacing between kernel elements
     * @param groups the number of groups (dividing both channel counts)
     * @param bias whether to have a bias
     * @throws IllegalArgumentException when a number is impossible, naming it
     */
    public ConvTranspose2d(int inChannels, int outChannels, int kernel, int stride, int padding, int outputPadding,
                           int dilation, int groups, boolean bias) {
        this(inChannels, outChannels, kernel, kernel, stride, stride, padding, padding, outputPadding, outputPadding,
                dilation, dilation, groups, bias);
    }

    private ConvTranspose2d(int inChannels, int outChannels, int kernelHeight, int kernelWidth, int strideHeight,
                            int strideWidth, int padHeight, int padWidth, int outputPadHeight, int outputPadWidth,
                            int dilationHeight, int dilationWidth, int groups, boolean bias) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelHeight = kernelHeight;
        this.kernelWidth = kernelWidth;
        this.strideHeight = strideHeight;
        this.strideWidth = strideWidth;
        this.padHeight = padHeight;
        this.padWidth = padWidth;
        this.outputPadHeight = outputPadHeight;
        this.outputPadWidth = outputPadWidth;
        this.dilationHeight = dilationHeight;
        this.dilationWidth = dilationWidth;
        this.groups = groups;
        this.hasBias = bias;
        this.params = new ConvParameters(bias);
        validate();
    }

    /**
     * A {@code kernel}×{@code kernel} transposed convolution with stride 1, no padding, no output
     * padding, no dilation, one group and a bias, as {@code nn.ConvTranspose2d(in, out, kernel)};
     * the methods below give a copy with one setting changed.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernel the kernel size (square)
     * @return the transposed convolution
     * @throws IllegalArgumentException when a number is impossible, naming it
     */
    public static ConvTranspose2d of(int inChannels, int outChannels, int kernel) {
        return new ConvTranspose2d(inChannels, outChannels, kernel, 1, 0, 0, 1, 1, true);
    }

    /**
     * {@return this transposed convolution with these strides}
     *
     * @param height the vertical stride
     * @param width the horizontal stride
     */
    public ConvTranspose2d stride(int height, int width) {
        return copy(new ConvTranspose2d(inChannels, outChannels, kernelHeight, kernelWidth, height, width, padHeight,
                padWidth, outputPadHeight, outputPadWidth, dilationHeight, dilationWidth, groups, hasBias));
    }

    /**
     * {@return this transposed convolution with these paddings}
     *
     * @param height the padding removed above and below
     * @param width the padding removed left and right
     */
    public ConvTranspose2d padding(int height, int width) {
        return copy(new ConvTranspose2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth,
                height, width, outputPadHeight, outputPadWidth, dilationHeight, dilationWidth, groups, hasBias));
    }

    /**
     * {@return this transposed convolution with these output paddings}
     *
     * @param height the rows added at the bottom (smaller than the vertical stride)
     * @param width the columns added at the right (smaller than the horizontal stride)
     */
    public ConvTranspose2d outputPadding(int height, int width) {
        return copy(new ConvTranspose2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth,
                padHeight, padWidth, height, width, dilationHeight, dilationWidth, groups, hasBias));
    }

    /**
     * {@return this transposed convolution with these dilations}
     *
     * @param height the vertical dilation
     * @param width the horizontal dilation
     */
    public ConvTranspose2d dilation(int height, int width) {
        return copy(new ConvTranspose2d(inChannels, outChannels, kernelHeight, kernelWidth, strideHeight, strideWidth,
                padHeight, padWidth, outputPadHeight, outputPadWidth, height, width, groups, hasBias));
    }

    /**
     * {@return this transposed convolution with these kernel sizes}
     *
     * @param height the kernel's height
     * @param width the kernel's width
     */
    public ConvTranspose2d kernel(int height, int width) {
        return copy(new ConvTranspose2d(inChannels, outChannels, height, width, strideHeight, strideWidth,
                padHeight, padWidth, outputPadHeight, outputPadWidth, dilationHeight, dilationWidth, groups, hasBias));
    }

    private ConvTranspose2d copy(ConvTranspose2d configured) {
        if (inputShape() != null) {
            throw new IllegalStateException(describe() + ": change settings before setup, not after");
        }
        return configured;
    }

    private void validate() {
        String where = describe();
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException(where + ": channel counts must be > 0");
        }
        if (kernelHeight <= 0 || kernelWidth <= 0) {
            throw new IllegalArgumentException(where + ": kernel size must be > 0");
        }
        if (strideHeight <= 0 || strideWidth <= 0) {
            throw new IllegalArgumentException(where + ": stride must be > 0");
        }
        if (dilationHeight <= 0 || dilationWidth <= 0) {
            throw new IllegalArgumentException(where + ": dilation must be > 0");
        }
        if (padHeight < 0 || padWidth < 0 || outputPadHeight < 0 || outputPadWidth < 0) {
            throw new IllegalArgumentException(where + ": padding and output padding must be >= 0");
        }
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(where + ": groups must divide both channel counts");
        }
        if ((outputPadHeight >= strideHeight && outputPadHeight >= dilationHeight)
                || (outputPadWidth >= strideWidth && outputPadWidth >= dilationWidth)) {
            throw new IllegalArgumentException(where + ": output padding must be smaller than either stride or dilation"
                    + " (as PyTorch)");
        }
        if (outputPadHeight >= strideHeight || outputPadWidth >= strideWidth) {
            throw new IllegalArgumentException(where + ": output padding not smaller than the stride is not supported"
                    + " (PyTorch allows it below the dilation; the adjoint convolution this layer runs cannot make"
                    + " those rows)");
        }
    }

    /** The output size along one axis, as PyTorch computes it (may be <= 0 for too much padding). */
    private static long outputSize(int size, int kernel, int stride, int pad, int outputPad, int dilation) {
        return ((long) size - 1) * stride - 2L * pad + (long) dilation * (kernel - 1) + outputPad + 1;
    }

    /** The convolution whose backward-data pass this layer's forward is: from our output back to our input. */
    private ConvGeometry adjointGeometry(int batch, int outHeight, int outWidth) {
        return new ConvGeometry(batch, outChannels, outHeight, outWidth, inChannels, kernelHeight, kernelWidth,
                strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth, groups);
    }

    @Override
    public String describe() {
        StringBuilder text = new StringBuilder("ConvTranspose2d(").append(inChannels).append(", ").append(outChannels)
                .append(", kernel=").append(kernelHeight).append('x').append(kernelWidth);
        if (strideHeight != 1 || strideWidth != 1) {
            text.append(", stride=").append(strideHeight).append('x').append(strideWidth);
        }
        if (padHeight != 0 || padWidth != 0) {
            text.append(", padding=").append(padHeight).append('x').append(padWidth);
        }
        if (outputPadHeight != 0 || outputPadWidth != 0) {
            text.append(", output_padding=").append(outputPadHeight).append('x').append(outputPadWidth);
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
        long height = outputSize(input.dim(2), kernelHeight, strideHeight, padHeight, outputPadHeight, dilationHeight);
        long width = outputSize(input.dim(3), kernelWidth, strideWidth, padWidth, outputPadWidth, dilationWidth);
        if (height <= 0 || width <= 0 || height > Integer.MAX_VALUE || width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(describe() + ": input " + input + " gives an output of " + height + "x"
                    + width + ", which is impossible");
        }
        Shape output = Shape.of(input.dim(0), outChannels, (int) height, (int) width);
        // The adjoint convolution must map the output back onto exactly this input (true while output_padding < stride).
        Shape back = adjointGeometry(input.dim(0), (int) height, (int) width).outputShape();
        if (!back.equals(input)) {
            throw new IllegalArgumentException(describe() + ": input " + input + " and output " + output
                    + " are not a convolution's output and input");
        }
        return output;
    }

    @Override
    protected void createParameters(Device device) {
        Shape weightShape = Shape.of(inChannels, outChannels / groups, kernelHeight, kernelWidth);
        params.create(device, weightShape, outChannels);
    }

    /** PyTorch's _ConvNd.reset_parameters: fan_in is the weight's dim 1 times the kernel area, (out/groups)·kH·kW. */
    @Override
    public void resetParameters(SplittableRandom random) {
        params.reset(random);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        // Mixed precision as autocast's conv_transpose2d: both activations the plan reads are low precision.
        DType operands = precision().operandType();
        adjoint = device.convolution(adjointGeometry(input.dim(0), output.dim(2), output.dim(3)), operands);
        adjoint.prepare(false);
        this.output = device.allocateActivation(output);
        if (precision().isMixed()) {
            lowInput = device.allocate(input, operands, device.activationLayout(input));
            lowGradOutput = device.allocate(output, operands, device.activationLayout(output));
        }
    }

    @Override
    protected void releaseBuffers() {
        closeAll(adjoint, output, lowInput, lowGradOutput);
        lowInput = null;
        lowGradOutput = null;
    }

    @Override
    protected void releaseParameters() {
        params.release();
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        input = lowInput == null ? x : lowPrecision(x, lowInput);
        adjoint.backwardData(input, params.weight(), output);
        if (hasBias) {
            device().elementwise().addBias(output, params.bias());
        }
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Tensor dy = lowGradOutput == null ? gradOutput : lowPrecision(gradOutput, lowGradOutput);
        if (!isFrozen()) {
            // The adjoint's input is our output (so dy), its output gradient our input (x).
            adjoint.backwardFilter(dy, input, params.weightGrad(), null);
            if (hasBias) {
                device().elementwise().biasGradient(gradOutput, params.biasGrad());
            }
        }
        if (!propagatesDown()) {
            return null;
        }
        adjoint.forward(dy, params.weight(), null, gradInput());
        return gradInput();
    }

    /** {@code value} converted into {@code low} (an F32 input in another layout is brought to low's on the way). */
    private Tensor lowPrecision(Tensor value, Tensor low) {
        device().elementwise().convert(value, low);
        return low;
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

    /** {@return the kernel as {height, width}} */
    public int[] kernel() {
        return new int[] {kernelHeight, kernelWidth};
    }

    /** {@return the strides as {height, width}} */
    public int[] strides() {
        return new int[] {strideHeight, strideWidth};
    }

    /** {@return the paddings as {height, width}} */
    public int[] paddings() {
        return new int[] {padHeight, padWidth};
    }

    /** {@return the output paddings as {height, width}} */
    public int[] outputPaddings() {
        return new int[] {outputPadHeight, outputPadWidth};
    }

    /** {@return the dilations as {height, width}} */
    public int[] dilations() {
        return new int[] {dilationHeight, dilationWidth};
    }

    /** {@return the number of groups} */
    public int groups() {
        return groups;
    }

    /** {@return whether the layer has a bias} */
    public boolean hasBias() {
        return hasBias;
    }
}
