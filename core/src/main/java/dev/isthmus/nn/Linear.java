package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.InnerProductPlan;
import dev.isthmus.device.Transpose;
import dev.isthmus.tensor.DType;
import dev.isthmus.init.Initializers;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** y = x·Wᵀ + b for x of shape [N, in]; W is [out, in], b is [out] (PyTorch's nn.Linear). */
public final class Linear extends Layer {
    private final int inFeatures;
    private final int outFeatures;
    private final boolean hasBias;
    private Tensor weight;
    private Tensor weightGrad;
    private Tensor bias;
    private Tensor biasGrad;
    private Tensor output;
    private Tensor input;
    // Mixed precision only: the GEMMs on low-precision operands, and the input and output gradient converted for them.
    private InnerProductPlan lowPrecisionPlan;
    private Tensor lowInput;
    private Tensor lowGradOutput;

    /**
     * PyTorch's {@code Linear(inFeatures, outFeatures)}, with bias.
     *
     * @param inFeatures the input features
     * @param outFeatures the output features
     */
    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true);
    }

    /**
     * PyTorch's {@code Linear(inFeatures, outFeatures, bias)}.
     *
     * @param inFeatures the input features
     * @param outFeatures the output features
     * @param bias the bias, or null
     */
    public Linear(int inFeatures, int outFeatures, boolean bias) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear(" + inFeatures + ", " + outFeatures + "): sizes must be > 0");
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.hasBias = bias;
    }

    @Override
    public String describe() {
        return "Linear(" + inFeatures + ", " + outFeatures + (hasBias ? "" : ", bias=false") + ")";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() != 2 || input.dim(1) != inFeatures) {
            throw new IllegalArgumentException(describe() + ": expected input [N, " + inFeatures + "], got " + input);
        }
        return Shape.of(input.dim(0), outFeatures);
    }

    @Override
    protected void createParameters(Device device) {
        weight = device.allocate(Shape.of(outFeatures, inFeatures));
        weightGrad = device.allocate(Shape.of(outFeatures, inFeatures));
        if (hasBias) {
            bias = device.allocate(Shape.of(outFeatures));
            biasGrad = device.allocate(Shape.of(outFeatures));
        }
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        Initializers.torchDefaultWeight().fill(weight, random);
        if (hasBias) {
            Initializers.torchDefaultBias(inFeatures).fill(bias, random);
        }
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        this.output = allocateOutput(device, output);
        if (precision().isMixed()) {
            DType operands = precision().operandType();
            lowPrecisionPlan = device.innerProduct(input.dim(0), inFeatures, outFeatures, operands);
            lowInput = device.allocate(input, operands);
            lowGradOutput = device.allocate(output, operands);
        }
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output, lowPrecisionPlan, lowInput, lowGradOutput);
        lowPrecisionPlan = null;
        lowInput = null;
        lowGradOutput = null;
    }

    @Override
    protected void releaseParameters() {
        closeAll(weight, weightGrad, bias, biasGrad);
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        if (lowPrecisionPlan != null) {
            // Autocast's cast of the input; the plan casts the weights itself.
            device().elementwise().convert(x, lowInput);
            input = lowInput;
            lowPrecisionPlan.forward(lowInput, weight, hasBias ? bias : null, output);
            return output;
        }
        input = x;
        device().blas().matmul(x, Transpose.NO, weight, Transpose.YES, output, 1f, 0f);
        if (hasBias) {
            device().elementwise().addBias(output, bias);
        }
        return output;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Device device = device();
        if (lowPrecisionPlan != null) {
            device.elementwise().convert(gradOutput, lowGradOutput);
            // A frozen layer has no gradients.
            if (!isFrozen()) {
                lowPrecisionPlan.backwardWeights(lowInput, lowGradOutput, weightGrad, hasBias ? biasGrad : null);
            }
            if (!propagatesDown()) {
                return null;
            }
            lowPrecisionPlan.backwardData(lowGradOutput, weight, gradInput());
            return gradInput();
        }
        // dW += dyᵀ·x ; db += Σ_n dy ; dx = dy·W. A frozen layer has no gradients.
        if (!isFrozen()) {
            device.blas().matmul(gradOutput, Transpose.YES, input, Transpose.NO, weightGrad, 1f, 1f);
            if (hasBias) {
                device.elementwise().biasGradient(gradOutput, biasGrad);
            }
        }
        if (!propagatesDown()) {
            return null;
        }
        device.blas().matmul(gradOutput, Transpose.NO, weight, Transpose.NO, gradInput(), 1f, 0f);
        return gradInput();
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> parameters = new ArrayList<>();
        parameters.add(new Parameter("weight", weight, weightGrad));
        if (hasBias) {
            parameters.add(new Parameter("bias", bias, biasGrad));
        }
        return parameters;
    }

    /** {@return the input features} */
    public int inFeatures() {
        return inFeatures;
    }

    /** {@return the output features} */
    public int outFeatures() {
        return outFeatures;
    }
}
