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
    // The sum (after the final ReLU) in its type: the output itself when their types agree.
    private Tensor sum;
    private DType sumType = DType.F32;
    private Tensor sumGradient;
    // Mixed precision: dL/dy in the sum's type when the output's differs, and dL/d(sum) in the
    // low precision for a branch that ends in it while the sum is F32.
    private Tensor typedGradOutput;
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

    /**
     * Under mixed precision a block converts (takes and gives BF16 or F32) when both branches
     * start with a convolution and a ReLU ends it: a stage of blocks then hands BF16 from block to
     * block, and the sum and its ReLU run in BF16 (see Sequential).
     */
    @Override
    protected LowPrecisionCarry lowPrecisionCarry() {
        boolean shortcutConverts = shortcut == null
                || (shortcut instanceof Sequential projection && startsConverting(projection));
        return finalRelu && startsConverting(main) && shortcutConverts ? LowPrecisionCarry.CONVERTS : LowPrecisionCarry.NONE;
    }

    private static boolean startsConverting(Sequential branch) {
        return !branch.layers().isEmpty() && branch.layers().get(0).lowPrecisionCarry() == LowPrecisionCarry.CONVERTS;
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        DType in = inputType();
        // children() lists the branch's layers, not the branch: its precision is passed on here.
        if (main.precision() != precision()) {
            main.setPrecision(precision());
        }
        // Both branches need dL/dx of the block, so both propagate down. The sum reads a branch in
        // either type, so the main branch may end in BF16 batch norm (see Sequential); the
        // projection does only when the block's input is BF16 too, because oneDNN 2.6 sums two
        // BF16 operands into F32 only with its reference kernel (slower than what it saves).
        main.carryInputType(in);
        main.allowLowPrecisionOutput(finalRelu);
        main.setPropagateDown(true);
        main.setup(device, input);
        if (shortcut != null) {
            shortcut.carryInputType(in);
            if (shortcut instanceof Sequential projection) {
                projection.allowLowPrecisionOutput(finalRelu && in != DType.F32);
            }
            shortcut.setPropagateDown(true);
            shortcut.setup(device, input);
        }
        DType skip = shortcut == null ? in : shortcut.outputType();
        sumType = finalRelu && main.outputType() == skip ? skip : DType.F32;
        this.output = allocateOutput(device, output);
        sum = sumType == outputType() ? this.output : device.allocate(output, sumType, device.activationLayout(output));
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output, sum == output ? null : sum);
        sum = null;
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        Device device = device();
        Tensor branch = main.forward(x, training);
        Tensor skip = shortcut == null ? x : shortcut.forward(x, training);
        // The sum and the ReLU in one pass; backward reads the ReLU's mask from the result
        // (> 0 exactly where the sum is), so the sum before the ReLU is never kept.
        if (finalRelu) {
            device.elementwise().addRelu(branch, skip, sum);
        } else {
            device.elementwise().add(branch, skip, sum);
        }
        if (sum != output) {
            device.elementwise().convert(sum, output);
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
        typedGradOutput = finalRelu && outputType() != sumType ? plan.buffer(outputShape(), sumType, gradOutput) : null;
        plan.reserve(typedGradOutput);
        Tensor upstream = typedGradOutput != null ? typedGradOutput : gradOutput;
        sumGradient = finalRelu ? plan.buffer(outputShape(), sumType, upstream) : gradOutput;
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
        plan.release(typedGradOutput);
        if (!propagatesDown()) {
            return null;
        }
        boolean overwritable = plan.isFree(mainGrad) && !mainGrad.sharesMemoryWith(gradOutput)
                && mainGrad.shape().equals(inputShape()) && mainGrad.dtype() == inputType();
        useGradInput(overwritable ? mainGrad : plan.buffer(inputShape(), inputType(), gradOutput));
        return gradInput();
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Device device = device();
        if (finalRelu) {
            Tensor upstream = gradOutput;
            if (typedGradOutput != null) {
                device.elementwise().convert(gradOutput, typedGradOutput);
                upstream = typedGradOutput;
            }
            device.activations().backward(Activation.RELU, 0f, sum, sum, upstream, sumGradient);
        }
        // Without the final ReLU the branches read dL/dy itself (whatever buffer it arrived in).
        Tensor gradient = finalRelu ? sumGradient : gradOutput;
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

    /** The low precision a branch ends in while the sum is F32, or null. */
    private DType lowBranchType() {
        if (sumType != DType.F32) {
            return null;
        }
        if (main.outputType() != DType.F32) {
            return main.outputType();
        }
        return shortcut != null && shortcut.outputType() != DType.F32 ? shortcut.outputType() : null;
    }

    /** dL/d(sum) in the type {@code branch} ends in: {@code gradient} (the sum's type), or its low-precision copy. */
    private Tensor branchGradient(Layer branch, Tensor gradient) {
        return branch.outputType() == sumType ? gradient : lowSumGradient;
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
