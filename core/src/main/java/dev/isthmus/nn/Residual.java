package dev.isthmus.nn;

import dev.isthmus.device.Activation;
import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A residual block: y = relu(main(x) + shortcut(x)), where the shortcut is the identity or a
 * projection (1×1 conv + batch norm when the shape changes). The main branch's parameters are
 * named without a prefix and the projection's under {@code downsample}, as torchvision's
 * BasicBlock names them ({@code conv1.weight}, {@code downsample.0.weight}).
 */
public final class Residual extends Layer {
    private final Sequential main;
    private final Layer shortcut;
    private final boolean finalRelu;
    private Tensor sum;
    private Tensor output;
    private Tensor ownSumGradient;

    /**
     * @param main      the main branch
     * @param shortcut  the projection, or null for the identity
     * @param finalRelu whether a ReLU follows the addition
     */
    public Residual(Sequential main, Layer shortcut, boolean finalRelu) {
        if (main == null) {
            throw new IllegalArgumentException("Residual: the main branch must not be null");
        }
        this.main = main;
        this.shortcut = shortcut;
        this.finalRelu = finalRelu;
    }

    @Override
    public String describe() {
        return "Residual(" + (shortcut == null ? "identity" : "projection") + " shortcut)";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        Shape mainShape = main.outputShapeOf(input);
        Shape shortcutShape = shortcut == null ? input : shortcut.outputShapeOf(input);
        if (!mainShape.equals(shortcutShape)) {
            throw new IllegalArgumentException(describe() + ": the main branch gives " + mainShape
                    + " but the shortcut gives " + shortcutShape + " for input " + input
                    + (shortcut == null ? " (a projection shortcut is needed)" : ""));
        }
        return mainShape;
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        // Both branches need dL/dx of the block, so both propagate down.
        main.setPropagateDown(true);
        main.setup(device, input);
        if (shortcut != null) {
            shortcut.setPropagateDown(true);
            shortcut.setup(device, input);
        }
        this.sum = device.allocateActivation(output);
        this.output = finalRelu ? device.allocateActivation(output) : sum;
    }

    @Override
    protected void releaseBuffers() {
        closeAll(sum, finalRelu ? output : null, ownSumGradient);
        ownSumGradient = null;
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        Device device = device();
        Tensor branch = main.forward(x, training);
        Tensor skip = shortcut == null ? x : shortcut.forward(x, training);
        device.elementwise().add(branch, skip, sum);
        if (finalRelu) {
            device.activations().forward(Activation.RELU, 0f, sum, output);
        }
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Device device = device();
        Tensor gradient = gradOutput;
        if (finalRelu) {
            gradient = sumGradient(gradOutput);
            device.activations().backward(Activation.RELU, 0f, sum, output, gradOutput, gradient);
        }
        // Both branches read the block's gradient, and the main branch's result waits for the
        // shortcut's: pinned, neither is handed out to the layers inside while still needed.
        GradientBuffers shared = sharedGradients();
        if (shared != null) {
            shared.pin(gradient);
        }
        Tensor mainGrad = main.backward(gradient);
        if (shared != null) {
            shared.pin(mainGrad);
        }
        Tensor skipGrad = shortcut == null ? gradient : shortcut.backward(gradient);
        if (shared != null) {
            shared.unpin(mainGrad);
            shared.unpin(gradient);
        }
        if (!propagatesDown()) {
            return null;
        }
        Tensor gradInput = shared != null ? mainGrad : gradientBuffer(mainGrad);
        // With shared buffers the sum goes into the main branch's gradient, which nothing else reads.
        device.elementwise().add(mainGrad, skipGrad, gradInput);
        return gradInput;
    }

    /** The buffer for dL/d(sum): shared when the model shares gradients, else the block's own. */
    private Tensor sumGradient(Tensor reading) {
        GradientBuffers shared = sharedGradients();
        if (shared != null) {
            return shared.acquire(device(), outputShape(), device().activationLayout(outputShape()), reading);
        }
        if (ownSumGradient == null) {
            ownSumGradient = device().allocateActivation(outputShape());
        }
        return ownSumGradient;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> parameters = new ArrayList<>(main.parameters());
        if (shortcut != null) {
            for (Parameter parameter : shortcut.parameters()) {
                parameters.add(parameter.withPrefix("downsample"));
            }
        }
        return parameters;
    }

    @Override
    public List<NamedTensor> buffers() {
        List<NamedTensor> buffers = new ArrayList<>(main.buffers());
        if (shortcut != null) {
            for (NamedTensor buffer : shortcut.buffers()) {
                buffers.add(buffer.withPrefix("downsample"));
            }
        }
        return buffers;
    }

    /** The main branch's children (unprefixed, as their parameters are named), then the projection. */
    @Override
    public java.util.Map<String, Layer> children() {
        java.util.Map<String, Layer> children = new java.util.LinkedHashMap<>(main.children());
        if (shortcut != null) {
            children.put("downsample", shortcut);
        }
        return children;
    }

    public Sequential mainBranch() {
        return main;
    }

    public Layer shortcut() {
        return shortcut;
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        main.resetParameters(random);
        if (shortcut != null) {
            shortcut.resetParameters(random);
        }
    }

    @Override
    public void close() {
        super.close();
        main.close();
        if (shortcut != null) {
            shortcut.close();
        }
    }
}
