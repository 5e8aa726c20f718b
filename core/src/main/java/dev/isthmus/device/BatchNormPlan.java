package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Batch normalisation over the channel axis of an input seen as [outer, channels, inner]
 * (BatchNorm2d: [N, C, H·W]; BatchNorm1d: [N, C, L] or [N, C, 1]). Statistics are per channel over
 * outer × inner values; the running variance is updated with the unbiased estimate, as PyTorch
 * and cuDNN do. Made by {@link Device#batchNorm(Shape)}.
 */
public abstract class BatchNormPlan implements AutoCloseable {
    /** The device the plan runs on. */
    protected final Device device;
    /** The input shape the plan was made for. */
    protected final Shape inputShape;
    /** N, the batch dimension. */
    protected final int outer;
    /** C, the normalised dimension (axis 1). */
    protected final int channels;
    /** The product of the dimensions after axis 1 (H·W for NCHW, 1 for [N, C]). */
    protected final int inner;
    private final Shape channelShape;

    /**
     * For subclasses: a plan for inputs of {@code inputShape} ([N, C] or [N, C, H, W]).
     *
     * @param device the device
     * @param inputShape the input shape
     */
    protected BatchNormPlan(Device device, Shape inputShape) {
        if (inputShape.rank() < 2) {
            throw new IllegalArgumentException("batch norm: input " + inputShape + " needs at least [N, C]");
        }
        this.device = device;
        this.inputShape = inputShape;
        this.outer = inputShape.dim(0);
        this.channels = inputShape.dim(1);
        this.inner = channels == 0 || outer == 0 ? 0 : (int) (inputShape.elementCount() / ((long) outer * channels));
        this.channelShape = Shape.of(channels);
    }

    /** {@return the input shape the plan was made for} */
    public Shape inputShape() {
        return inputShape;
    }

    /**
     * y = gamma · (x − mean) / sqrt(var + eps) + beta with this batch's statistics; saves mean and
     * 1/sqrt(var + eps) for backward; running = (1 − momentum) · running + momentum · batch statistic.
     *
     * @param x the input
     * @param gamma the scale γ, per channel (null when not affine)
     * @param beta the shift β, per channel (null when not affine)
     * @param runningMean the running means, per channel, updated in training
     * @param runningVar the running variances, per channel, updated in training
     * @param momentum the running statistics' momentum (PyTorch's)
     * @param eps added for numerical stability
     * @param y the output, written
     * @param savedMean the batch means saved by the training forward
     * @param savedInvStd the batch's 1/sqrt(var + eps) saved by the training forward
     */
    public final void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float momentum, float eps, Tensor y, Tensor savedMean, Tensor savedInvStd) {
        final String op = "batch norm forward (training)";
        DType data = dataType(x);
        checkDatum(op, "input", x, data, x);
        checkDatum(op, "output", y, data, x);
        check(op, "gamma", gamma, channelShape);
        check(op, "beta", beta, channelShape);
        check(op, "running mean", runningMean, channelShape);
        check(op, "running variance", runningVar, channelShape);
        check(op, "saved mean", savedMean, channelShape);
        check(op, "saved inverse std", savedInvStd, channelShape);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(op + ": momentum must be in [0, 1], got " + momentum);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        }
        if ((long) outer * inner < 2) {
            throw new IllegalArgumentException(op + ": input " + inputShape
                    + " has one value per channel; batch statistics need more than one (use eval mode)");
        }
        try (Device.Guard ignored = device.enter()) {
            doForwardTraining(x, gamma, beta, runningMean, runningVar, momentum, eps, y, savedMean, savedInvStd);
        }
    }

    /**
     * y = gamma · (x − running mean) / sqrt(running var + eps) + beta.
     *
     * @param x the input
     * @param gamma the scale γ, per channel (null when not affine)
     * @param beta the shift β, per channel (null when not affine)
     * @param runningMean the running means, per channel, updated in training
     * @param runningVar the running variances, per channel, updated in training
     * @param eps added for numerical stability
     * @param y the output, written
     */
    public final void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                       float eps, Tensor y) {
        final String op = "batch norm forward (inference)";
        DType data = dataType(x);
        checkDatum(op, "input", x, data, x);
        checkDatum(op, "output", y, data, x);
        check(op, "gamma", gamma, channelShape);
        check(op, "beta", beta, channelShape);
        check(op, "running mean", runningMean, channelShape);
        check(op, "running variance", runningVar, channelShape);
        if (!(eps > 0)) {
            throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        }
        try (Device.Guard ignored = device.enter()) {
            doForwardInference(x, gamma, beta, runningMean, runningVar, eps, y);
        }
    }

    /**
     * dx (overwritten), and gammaGrad += dL/dgamma, betaGrad += dL/dbeta, from a training forward
     * with the same eps.
     *
     * @param x the input
     * @param gradOutput dL/dy
     * @param gamma the scale γ, per channel (null when not affine)
     * @param savedMean the batch means saved by the training forward
     * @param savedInvStd the batch's 1/sqrt(var + eps) saved by the training forward
     * @param eps added for numerical stability
     * @param gradInput dL/dx, written
     * @param gammaGrad dL/dγ, accumulated (null when not affine)
     * @param betaGrad dL/dβ, accumulated (null when not affine)
     */
    public final void backward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                               float eps, Tensor gradInput, Tensor gammaGrad, Tensor betaGrad) {
        final String op = "batch norm backward";
        if (!(eps > 0)) {
            throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        }
        DType data = dataType(x);
        checkDatum(op, "input", x, data, x);
        checkDatum(op, "output gradient", gradOutput, data, x);
        checkDatum(op, "input gradient", gradInput, data, x);
        check(op, "gamma", gamma, channelShape);
        check(op, "saved mean", savedMean, channelShape);
        check(op, "saved inverse std", savedInvStd, channelShape);
        check(op, "gamma gradient", gammaGrad, channelShape);
        check(op, "beta gradient", betaGrad, channelShape);
        try (Device.Guard ignored = device.enter()) {
            doBackward(x, gradOutput, gamma, savedMean, savedInvStd, eps, gradInput, gammaGrad, betaGrad);
        }
    }

    /** The data operands' type: F32, or the low precision of x where the device {@link Device#carriesLowPrecision carries} it. */
    private DType dataType(Tensor x) {
        return Checks.carriedLowPrecision(x, device) ? x.dtype() : DType.F32;
    }

    /** A data operand: of the input's shape and of {@code dtype}; low-precision ones in the input's layout. */
    private void checkDatum(String op, String role, Tensor tensor, DType dtype, Tensor x) {
        Checks.tensor(op, role, tensor, device, dtype);
        Checks.shape(op, role, tensor, inputShape);
        if (dtype != DType.F32) {
            Checks.sameLayout(op, role, tensor, x);
        }
    }

    private void check(String op, String role, Tensor tensor, Shape expected) {
        Checks.f32(op, role, tensor, device);
        Checks.shape(op, role, tensor, expected);
    }

    /**
     * The backend's training-mode forward; arguments checked by {@link #forwardTraining}.
     *
     * @param x the input
     * @param gamma the scale γ, per channel (null when not affine)
     * @param beta the shift β, per channel (null when not affine)
     * @param runningMean the running means, per channel, updated in training
     * @param runningVar the running variances, per channel, updated in training
     * @param momentum the running statistics' momentum (PyTorch's)
     * @param eps added for numerical stability
     * @param y the output, written
     * @param savedMean the batch means saved by the training forward
     * @param savedInvStd the batch's 1/sqrt(var + eps) saved by the training forward
     */
    protected abstract void doForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                              Tensor runningVar, float momentum, float eps, Tensor y,
                                              Tensor savedMean, Tensor savedInvStd);

    /**
     * The backend's eval-mode forward; arguments checked by {@link #forwardInference}.
     *
     * @param x the input
     * @param gamma the scale γ, per channel (null when not affine)
     * @param beta the shift β, per channel (null when not affine)
     * @param runningMean the running means, per channel, updated in training
     * @param runningVar the running variances, per channel, updated in training
     * @param eps added for numerical stability
     * @param y the output, written
     */
    protected abstract void doForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                               Tensor runningVar, float eps, Tensor y);

    /**
     * The backend's backward; arguments checked by {@link #backward}.
     *
     * @param x the input
     * @param gradOutput dL/dy
     * @param gamma the scale γ, per channel (null when not affine)
     * @param savedMean the batch means saved by the training forward
     * @param savedInvStd the batch's 1/sqrt(var + eps) saved by the training forward
     * @param eps added for numerical stability
     * @param gradInput dL/dx, written
     * @param gammaGrad dL/dγ, accumulated (null when not affine)
     * @param betaGrad dL/dβ, accumulated (null when not affine)
     */
    protected abstract void doBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor savedMean,
                                       Tensor savedInvStd, float eps, Tensor gradInput, Tensor gammaGrad, Tensor betaGrad);

    @Override
    public void close() {
    }
}
