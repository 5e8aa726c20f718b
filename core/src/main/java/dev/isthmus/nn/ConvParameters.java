package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.init.Initializer;
import dev.isthmus.init.Initializers;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A convolution's weight and optional bias with their gradients, under PyTorch's names and its
 * default initialisation ({@code _ConvNd.reset_parameters}): what {@link Conv2d}, {@link Conv3d}
 * and {@link ConvTranspose2d} have in common, whatever their weight's shape.
 */
final class ConvParameters {
    private final boolean hasBias;
    private Tensor weight;
    private Tensor weightGrad;
    private Tensor bias;
    private Tensor biasGrad;

    ConvParameters(boolean hasBias) {
        this.hasBias = hasBias;
    }

    /** Allocates the weight of {@code weightShape}, a bias of {@code outChannels} if wanted, and their gradients. */
    void create(Device device, Shape weightShape, int outChannels) {
        weight = device.allocate(weightShape);
        weightGrad = device.allocate(weightShape);
        if (hasBias) {
            bias = device.allocate(Shape.of(outChannels));
            biasGrad = device.allocate(Shape.of(outChannels));
        }
    }

    /**
     * kaiming_uniform_(a=√5) weights, bias U(±1/√fan_in), where fan_in is the weight's dim 1 times
     * the kernel's size: in/groups for a convolution, out/groups for a transposed one, as PyTorch.
     */
    void reset(SplittableRandom random) {
        Initializers.torchDefaultWeight().fill(weight, random);
        if (hasBias) {
            Initializers.torchDefaultBias(Initializer.fans(weight)[0]).fill(bias, random);
        }
    }

    /** Frees the four tensors (those there are). */
    void release() {
        Layer.closeAll(weight, weightGrad, bias, biasGrad);
    }

    /** "weight" and, with a bias, "bias", as PyTorch's state_dict names them. */
    List<Parameter> list() {
        List<Parameter> parameters = new ArrayList<>();
        parameters.add(new Parameter("weight", weight, weightGrad));
        if (hasBias) {
            parameters.add(new Parameter("bias", bias, biasGrad));
        }
        return parameters;
    }

    Tensor weight() {
        return weight;
    }

    Tensor weightGrad() {
        return weightGrad;
    }

    /** {@return the bias, or null without one} */
    Tensor bias() {
        return bias;
    }

    /** {@return the bias gradient, or null without a bias} */
    Tensor biasGrad() {
        return biasGrad;
    }
}
