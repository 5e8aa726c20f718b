package dev.isthmus.nn;

import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.Dims3;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * 3-D convolution over NCDHW input (PyTorch's nn.Conv3d with padding_mode='zeros'): weight
 * [out, in/groups, kD, kH, kW] and bias [out] under PyTorch's names and default initialisation.
 * Made by {@code Conv3d.of(in, out, 3)} and its settings ({@code .stride(1, 2, 2).padding(1)}).
 */
public final class Conv3d extends Layer {
    private final int inChannels;
    private final int outChannels;
    private final Dims3 kernel;
    private final Dims3 stride;
    private final Dims3 padding;
    private final Dims3 dilation;
    private final int groups;
    private final boolean hasBias;

    private final ConvParameters params;
    private Convolution3dPlan plan;
    private Tensor output;
    private Tensor input;

    private Conv3d(int inChannels, int outChannels, Dims3 kernel, Dims3 stride, Dims3 padding, Dims3 dilation, int groups,
                   boolean bias) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.hasBias = bias;
        this.params = new ConvParameters(bias);
        if (kernel == null || stride == null || padding == null || dilation == null) {
            throw new IllegalArgumentException("Conv3d: sizes must not be null");
        }
        // Validates every number now, with a nominal input large enough for any kernel.
        geometry(1, new Dims3(reach(0), reach(1), reach(2)));
    }

    private int reach(int axis) {
        return Math.max(1, dilation.get(axis) * (kernel.get(axis) - 1) + 1);
    }

    /**
     * A cubic kernel, stride 1, no padding, no dilation, one group, a bias: {@code nn.Conv3d(in, out, kernel)}.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernel the window size per axis
     * @return the new layer
     */
    public static Conv3d of(int inChannels, int outChannels, int kernel) {
        return of(inChannels, outChannels, Dims3.cube(kernel));
    }

    /**
     * As {@link #of(int, int, int)} with a kD×kH×kW kernel.
     *
     * @param inChannels the input channels
     * @param outChannels the output channels
     * @param kernel the window size per axis
     * @return the new layer
     */
    public static Conv3d of(int inChannels, int outChannels, Dims3 kernel) {
        return new Conv3d(inChannels, outChannels, kernel, Dims3.cube(1), Dims3.cube(0), Dims3.cube(1), 1, true);
    }

    /**
     * {@return a copy with this stride}
     *
     * @param stride the step between windows per axis
     */
    public Conv3d stride(int stride) {
        return stride(Dims3.cube(stride));
    }

    /**
     * {@return a copy with this stride}
     *
     * @param stride the step between windows per axis
     */
    public Conv3d stride(Dims3 stride) {
        return copy(new Conv3d(inChannels, outChannels, kernel, stride, padding, dilation, groups, hasBias));
    }

    /**
     * Zero padding on each side of every axis.
     *
     * @param padding the zero padding per axis
     * @return the padding
     */
    public Conv3d padding(int padding) {
        return padding(Dims3.cube(padding));
    }

    /**
     * {@return a copy with this padding}
     *
     * @param padding the zero padding per axis
     */
    public Conv3d padding(Dims3 padding) {
        return copy(new Conv3d(inChannels, outChannels, kernel, stride, padding, dilation, groups, hasBias));
    }

    /**
     * {@return a copy with this dilation}
     *
     * @param dilation the spacing between kernel taps per axis
     */
    public Conv3d dilation(int dilation) {
        return dilation(Dims3.cube(dilation));
    }

    /**
     * {@return a copy with this dilation}
     *
     * @param dilation the spacing between kernel taps per axis
     */
    public Conv3d dilation(Dims3 dilation) {
        return copy(new Conv3d(inChannels, outChannels, kernel, stride, padding, dilation, groups, hasBias));
    }

    /**
     * Channels split into {@code groups} independent convolutions (it must divide both counts).
     *
     * @param groups the number of channel groups
     * @return the groups
     */
    public Conv3d groups(int groups) {
        return copy(new Conv3d(inChannels, outChannels, kernel, stride, padding, dilation, groups, hasBias));
    }

    /**
     * {@return a copy with this bias}
     *
     * @param bias whether the layer has a bias
     */
    public Conv3d bias(boolean bias) {
        return copy(new Conv3d(inChannels, outChannels, kernel, stride, padding, dilation, groups, bias));
    }

    private Conv3d copy(Conv3d configured) {
        if (inputShape() != null) {
            throw new IllegalStateException(describe() + ": change settings before setup, not after");
        }
        return configured;
    }

    private Conv3dGeometry geometry(int batch, Dims3 volume) {
        return new Conv3dGeometry(batch, inChannels, volume, outChannels, kernel, stride, padding, dilation, groups);
    }

    private Conv3dGeometry geometry(Shape input) {
        return geometry(input.dim(0), new Dims3(input.dim(2), input.dim(3), input.dim(4)));
    }

    @Override
    public String describe() {
        StringBuilder text = new StringBuilder("Conv3d(").append(inChannels).append(", ").append(outChannels)
                .append(", kernel=").append(kernel);
        if (!stride.equals(Dims3.cube(1))) {
            text.append(", stride=").append(stride);
        }
        if (!padding.equals(Dims3.cube(0))) {
            text.append(", padding=").append(padding);
        }
        if (!dilation.equals(Dims3.cube(1))) {
            text.append(", dilation=").append(dilation);
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
        if (input.rank() != 5 || input.dim(1) != inChannels) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + inChannels + ", D, H, W], got " + input);
        }
        try {
            return geometry(input).outputShape();
        } catch (IllegalArgumentException tooSmall) {
            throw new IllegalArgumentException(describe() + ": input " + input + ": " + tooSmall.getMessage());
        }
    }

    @Override
    protected void createParameters(Device device) {
        Shape weightShape = Shape.of(outChannels, inChannels / groups, kernel.depth(), kernel.height(), kernel.width());
        params.create(device, weightShape, outChannels);
    }

    /** PyTorch's reset_parameters: kaiming_uniform_(a=√5) weights, bias U(±1/√fan_in). */
    @Override
    public void resetParameters(SplittableRandom random) {
        params.reset(random);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        plan = device.convolution3d(geometry(input));
        plan.prepare(hasBias);
        this.output = allocateOutput(device, output);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(plan, output);
    }

    @Override
    protected void releaseParameters() {
        params.release();
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        input = x;
        plan.forward(x, params.weight(), params.bias(), output);
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        // dW += dL/dW (and db += Σ dy); dx = conv_transpose3d(dy, W)
        plan.backwardFilter(input, gradOutput, params.weightGrad(), hasBias ? params.biasGrad() : null);
        if (!propagatesDown()) {
            return null;
        }
        plan.backwardData(gradOutput, params.weight(), gradInput());
        return gradInput();
    }

    /**
     * The convolution's sizes for the current input shape.
     *
     * @return the geometry
     */
    public Conv3dGeometry geometry() {
        Shape in = inputShape();
        if (in == null) {
            throw new IllegalStateException(describe() + ": not set up");
        }
        return geometry(in);
    }

    @Override
    public List<Parameter> parameters() {
        return params.list();
    }

    /** {@return the in channels} */
    public int inChannels() {
        return inChannels;
    }

    /** {@return the out channels} */
    public int outChannels() {
        return outChannels;
    }
}
