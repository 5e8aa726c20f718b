package dev.isthmus.nn;

import dev.isthmus.device.Activation;
import dev.isthmus.device.Device;
import dev.isthmus.tensor.DType;
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
    private Tensor output;
    private Tensor sumGradient;
    // Mixed precision: dL/d(sum) in the low precision, for branches that end in it.
    private Tensor lowSumGradient;

    /**
     * A residual block: the main branch and the shortcut, added.
     *
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
        // The sum reads the main branch in either type, so it may end in BF16 batch norm (see
        // Sequential); the projection stays F32: oneDNN 2.6 has no JIT sum of two BF16 operands
        // into F32 (its reference kernel is slower than the conversion it would save).
        main.allowLowPrecisionOutput(finalRelu);
        // children() lists the branch's layers, not the branch: its precision is passed on here.
        if (main.precision() != precision()) {
            main.setPrecision(precision());
        }
        main.setPropagateDown(true);
        main.setup(device, input);
        if (shortcut != null) {
            shortcut.setPropagateDown(true);
            shortcut.setup(device, input);
        }
        this.output = allocateOutput(device, output);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output);
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        Device device = device();
        Tensor branch = main.forward(x, training);
        Tensor skip = shortcut == null ? x : shortcut.forward(x, training);
        // The sum and the ReLU in one pass; backward reads the ReLU's mask from the output
        // (output > 0 exactly where the sum is), so the sum is never kept.
        if (finalRelu) {
            device.elementwise().addRelu(branch, skip, output);
        } else {
            device.elementwise().add(branch, skip, output);
        }
        return output;
    }

    /**
     * dL/d(sum) (after the final ReLU, a buffer of its own) is read by both branches, and the main
     * branch's result waits for the shortcut's: both are reserved while the branches are planned.
     * dL/dx = main + shortcut goes into the main branch's gradient when nothing else needs it.
     */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        sumGradient = finalRelu ? plan.buffer(outputShape(), gradOutput) : gradOutput;
        plan.reserve(sumGradient);
        DType low = lowBranchType();
        lowSumGradient = low == null ? null : plan.buffer(outputShape(), low, sumGradient);
        plan.reserve(lowSumGradient);
        Tensor mainGrad = main.planBackward(plan, branchGradient(main, sumGradient));
        plan.reserve(mainGrad);
        if (shortcut != null) {
            shortcut.planBackward(plan, branchGradient(shortcut, sumGradient));
        }
        plan.release(mainGrad);
        plan.release(lowSumGradient);
        plan.release(sumGradient);
        if (!propagatesDown()) {
            return null;
        }
        boolean overwritable = plan.isFree(mainGrad) && !mainGrad.sharesMemoryWith(gradOutput)
                && mainGrad.shape().equals(inputShape()) && mainGrad.dtype() == inputType();
        useGradInput(overwritable ? mainGrad : plan.buffer(inputShape(), gradOutput));
        return gradInput();
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Device device = device();
        Tensor gradient = gradOutput;
        if (finalRelu) {
            device.activations().backward(Activation.RELU, 0f, output, output, gradOutput, sumGradient);
            gradient = sumGradient;
        }
        if (lowSumGradient != null) {
            device.elementwise().convert(gradient, lowSumGradient);
        }
        Tensor mainGrad = main.backward(branchGradient(main, gradient));
        Tensor skipGrad = shortcut == null ? gradient : shortcut.backward(branchGradient(shortcut, gradient));
        if (!propagatesDown()) {
            return null;
        }
        device.elementwise().add(mainGrad, skipGrad, gradInput());
        return gradInput();
    }

    /** The low precision a branch ends in, or null when both hand the sum F32. */
    private DType lowBranchType() {
        if (main.outputType() != DType.F32) {
            return main.outputType();
        }
        return shortcut != null && shortcut.outputType() != DType.F32 ? shortcut.outputType() : null;
    }

    /** dL/d(sum) in the type {@code branch} ends in: {@code f32}, or its low-precision copy. */
    private Tensor branchGradient(Layer branch, Tensor f32) {
        return branch.outputType() == DType.F32 ? f32 : lowSumGradient;
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

    /** {@return the main branch} */
    public Sequential mainBranch() {
        return main;
    }

    /** {@return the projection shortcut, or null for the identity} */
    public Layer shortcut() {
        return shortcut;
    }

    /**
     * Whether a ReLU follows the addition.
     *
     * @return whether final relu
     */
    public boolean finalRelu() {
        return finalRelu;
    }

    @Override
    public List<Counter> counters() {
        List<Counter> counters = new ArrayList<>(main.counters());
        if (shortcut != null) {
            for (Counter counter : shortcut.counters()) {
                counters.add(counter.withPrefix("downsample"));
            }
        }
        return counters;
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
