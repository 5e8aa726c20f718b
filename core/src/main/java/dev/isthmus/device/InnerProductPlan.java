package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * A fully connected layer's three GEMMs on low-precision operands (mixed precision's Linear),
 * prepared for one [batch, in] → [batch, out] shape: y = x·Wᵀ + b, dx = dy·W, dW += dyᵀ·x,
 * db += Σ dy. As for {@link ConvolutionPlan}, the input and output gradient arrive in the operand
 * type (BF16/F16); the weights and bias are the F32 master copies, which the plan converts into
 * its own low-precision copy on each call; everything it writes is F32, accumulated in F32. Made
 * by {@link Device#innerProduct}; every call checks the tensors before any native work. (F32
 * linear layers use the BLAS family directly.)
 */
public abstract class InnerProductPlan implements AutoCloseable {
    /** The device it runs on. */
    protected final Device device;
    /** Rows of the input and output. */
    protected final int batch;
    /** Columns of the input. */
    protected final int inFeatures;
    /** Columns of the output (rows of the weight). */
    protected final int outFeatures;
    private final DType operands;
    private final Shape inputShape;
    private final Shape outputShape;
    private final Shape weightShape;
    private final Shape biasShape;

    /**
     * A plan for [batch, in] → [batch, out] on {@code operands}.
     *
     * @param device      the device it runs on
     * @param batch       rows of the input and output
     * @param inFeatures  columns of the input
     * @param outFeatures columns of the output
     * @param operands    BF16 or F16
     */
    protected InnerProductPlan(Device device, int batch, int inFeatures, int outFeatures, DType operands) {
        this.device = device;
        this.batch = batch;
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.operands = operands;
        this.inputShape = Shape.of(batch, inFeatures);
        this.outputShape = Shape.of(batch, outFeatures);
        this.weightShape = Shape.of(outFeatures, inFeatures);
        this.biasShape = Shape.of(outFeatures);
    }

    /** {@return the type of the input and output gradient this plan reads} */
    public DType operandType() {
        return operands;
    }

    /**
     * y = x·Wᵀ + b.
     *
     * @param x      the input, [batch, in], in the operand type
     * @param weight the F32 master weight, [out, in]
     * @param bias   the F32 bias, [out], or null
     * @param y      the F32 output, [batch, out]
     */
    public final void forward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        final String op = "inner product forward";
        check(op, "input", x, inputShape, operands);
        check(op, "weight", weight, weightShape, DType.F32);
        if (bias != null) {
            check(op, "bias", bias, biasShape, DType.F32);
        }
        check(op, "output", y, outputShape, DType.F32);
        try (Device.Guard ignored = device.enter()) {
            doForward(x, weight, bias, y);
        }
    }

    /**
     * dx = dy·W (overwrites dx).
     *
     * @param gradOutput dy, [batch, out], in the operand type
     * @param weight     the F32 master weight, [out, in]
     * @param gradInput  dx, F32, [batch, in]
     */
    public final void backwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        final String op = "inner product backward data";
        check(op, "output gradient", gradOutput, outputShape, operands);
        check(op, "weight", weight, weightShape, DType.F32);
        check(op, "input gradient", gradInput, inputShape, DType.F32);
        try (Device.Guard ignored = device.enter()) {
            doBackwardData(gradOutput, weight, gradInput);
        }
    }

    /**
     * weightGrad += dyᵀ·x and, unless biasGrad is null, biasGrad += Σ_n dy.
     *
     * @param x          the forward input, [batch, in], in the operand type
     * @param gradOutput dy, [batch, out], in the operand type
     * @param weightGrad the F32 weight gradient, [out, in]
     * @param biasGrad   the F32 bias gradient, [out], or null
     */
    public final void backwardWeights(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        final String op = "inner product backward weights";
        check(op, "input", x, inputShape, operands);
        check(op, "output gradient", gradOutput, outputShape, operands);
        check(op, "weight gradient", weightGrad, weightShape, DType.F32);
        if (biasGrad != null) {
            check(op, "bias gradient", biasGrad, biasShape, DType.F32);
        }
        try (Device.Guard ignored = device.enter()) {
            doBackwardWeights(x, gradOutput, weightGrad, biasGrad);
        }
    }

    private void check(String op, String role, Tensor tensor, Shape expected, DType dtype) {
        Checks.tensor(op, role, tensor, device, dtype);
        Checks.shape(op, role, tensor, expected);
        Checks.rowMajor(op, role, tensor);
    }

    /**
     * The forward on validated tensors.
     *
     * @param x      the input
     * @param weight the master weight
     * @param bias   the bias or null
     * @param y      the output
     */
    protected abstract void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y);

    /**
     * The input gradient on validated tensors.
     *
     * @param gradOutput dy
     * @param weight     the master weight
     * @param gradInput  dx
     */
    protected abstract void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput);

    /**
     * The parameter gradients on validated tensors.
     *
     * @param x          the forward input
     * @param gradOutput dy
     * @param weightGrad the weight gradient (accumulated)
     * @param biasGrad   the bias gradient (accumulated) or null
     */
    protected abstract void doBackwardWeights(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad);

    @Override
    public void close() {
    }
}
