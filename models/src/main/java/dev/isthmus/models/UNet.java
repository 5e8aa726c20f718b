package dev.isthmus.models;

import dev.isthmus.device.Device;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Concat;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.ConvTranspose2d;
import dev.isthmus.nn.Counter;
import dev.isthmus.nn.GradientPlan;
import dev.isthmus.nn.Identity;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * U-Net (Ronneberger, Fischer and Brox 2015) with padding 1, so that the output has the input's
 * size: per level two 3×3 convolutions with ReLU (batch norm after each when asked; the paper has
 * none), a 2×2 max pool down, a 2×2 stride-2 transposed convolution up that halves the channels,
 * the skip joined to it by {@link Concat}, and a final 1×1 convolution to per-pixel class logits
 * [N, classes, H, W]. The paper's network is depth 4 (four poolings) and width 64 (64, 128, 256,
 * 512 channels, 1024 at the bottom).
 *
 * <p>Built recursively, so the parameter names are those of the same nesting of PyTorch
 * {@code nn.Sequential}s: level {@code i} is {@code encode} (the two convolutions), {@code skip}
 * (a Concat of {@code identity} and {@code down}: {@code pool}, {@code inner} (level i+1, or the
 * bottom's two convolutions), {@code up}), and {@code decode}; the top level's parts are the
 * model's own, followed by {@code head}. So {@code encode.0.weight},
 * {@code skip.down.inner.encode.0.weight}, {@code skip.down.up.weight}, {@code decode.2.bias},
 * {@code head.weight}. Height and width must be multiples of 2^depth, checked at setup.
 */
public final class UNet extends Layer {
    private final int depth;
    private final int width;
    private final Sequential body;

    /**
     * A U-Net.
     *
     * @param inChannels the input channels
     * @param classes the classes (output channels)
     * @param depth the number of poolings (the paper: 4)
     * @param width the channels of the first level, doubled at each level below (the paper: 64)
     * @param batchNorm whether batch norm follows every 3×3 convolution (which then has no bias)
     * @throws IllegalArgumentException when a number is not positive
     */
    public UNet(int inChannels, int classes, int depth, int width, boolean batchNorm) {
        if (inChannels <= 0 || classes <= 0 || depth <= 0 || width <= 0) {
            throw new IllegalArgumentException("UNet: channels, classes, depth and width must be > 0, got "
                    + inChannels + ", " + classes + ", " + depth + ", " + width);
        }
        if ((long) width << depth > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("UNet: width " + width + " at depth " + depth + " overflows");
        }
        this.depth = depth;
        this.width = width;
        this.body = level(inChannels, width, depth, batchNorm);
        body.add("head", Conv2d.of(width, classes, 1));
    }

    /** One level: encode, skip (identity beside pool, the level below, up), decode. */
    private static Sequential level(int inChannels, int width, int levelsBelow, boolean batchNorm) {
        Layer inner = levelsBelow == 1 ? doubleConv(width, 2 * width, batchNorm)
                : level(width, 2 * width, levelsBelow - 1, batchNorm);
        Sequential down = new Sequential().add("pool", new MaxPool2d(2)).add("inner", inner)
                .add("up", new ConvTranspose2d(2 * width, width, 2, 2, 0, 0, 1, 1, true));
        return new Sequential().add("encode", doubleConv(inChannels, width, batchNorm))
                .add("skip", new Concat().add("identity", new Identity()).add("down", down))
                .add("decode", doubleConv(2 * width, width, batchNorm));
    }

    /** conv3x3 (-BN) -ReLU, twice, numbered as nn.Sequential numbers them. */
    private static Sequential doubleConv(int inChannels, int outChannels, boolean batchNorm) {
        Sequential block = new Sequential();
        int channels = inChannels;
        for (int i = 0; i < 2; i++) {
            block.add(Conv2d.of(channels, outChannels, 3).padding(1).bias(!batchNorm));
            if (batchNorm) {
                block.add(new BatchNorm2d(outChannels));
            }
            block.add(new ReLU());
            channels = outChannels;
        }
        return block;
    }

    /**
     * The paper's U-Net: depth 4, width 64, no batch norm (31.0 million parameters for 1 channel, 2 classes).
     *
     * @param inChannels the input channels
     * @param classes the classes
     * @return the network
     */
    public static UNet paper(int inChannels, int classes) {
        return new UNet(inChannels, classes, 4, 64, false);
    }

    /**
     * The CPU-sized U-Net of the zoo's {@code unet-small}: depth 3, width 8, with batch norm
     * (without it this small network learns the synthetic shapes several times more slowly).
     *
     * @param inChannels the input channels
     * @param classes the classes
     * @return the network
     */
    public static UNet small(int inChannels, int classes) {
        return new UNet(inChannels, classes, 3, 8, true);
    }

    /** {@return the number of poolings} */
    public int depth() {
        return depth;
    }

    /** {@return the network proper, the Sequential of encode, skip, decode and head} */
    public Sequential body() {
        return body;
    }

    @Override
    public String describe() {
        return "UNet(depth=" + depth + ", width=" + width + ")";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        int multiple = 1 << depth;
        if (input.rank() != 4 || input.dim(2) % multiple != 0 || input.dim(3) % multiple != 0) {
            throw new IllegalArgumentException(describe() + ": input " + input + " must be [N, C, H, W] with H and W"
                    + " multiples of 2^" + depth + " = " + multiple + " (each of the " + depth + " poolings halves them)");
        }
        return body.outputShapeOf(input);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        body.setPropagateDown(propagatesDown());
        body.setup(device, input);
    }

    @Override
    protected void releaseBuffers() {
        // The body keeps its buffers until it is set up again or closed.
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        return body.forward(x, training);
    }

    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        return body.planBackward(plan, gradOutput);
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        return body.backward(gradOutput);
    }

    @Override
    public List<Parameter> parameters() {
        return body.parameters();
    }

    @Override
    public List<NamedTensor> buffers() {
        return body.buffers();
    }

    @Override
    public List<Counter> counters() {
        return body.counters();
    }

    @Override
    public Map<String, Layer> children() {
        return body.children();
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        body.resetParameters(random);
    }

    @Override
    public void close() {
        super.close();
        body.close();
    }
}
