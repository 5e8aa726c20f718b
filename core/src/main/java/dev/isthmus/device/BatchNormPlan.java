package dev.isthmus.device;

import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Batch normalisation over the channel axis of an input seen as [outer, channels, inner]
 * (BatchNorm2d: [N, C, H·W]; BatchNorm1d: [N, C, L] or [N, C, 1]). Statistics are per channel over
 * outer × inner values; the running variance is updated with the unbiased estimate, as PyTorch
 * and cuDNN do. Made by {@link Device#batchNorm(Shape)}.
 */
public abstract class BatchNormPlan implements AutoCloseable {
    protected final Device device;
    protected final Shape inputShape;
    protected final int outer;
    protected final int channels;
    protected final int inner;
    private final Shape channelShape;

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

    public Shape inputShape() {
        return inputShape;
    }

    /**
     * y = gamma · (x − mean) / sqrt(var + eps) + beta with this batch's statistics; saves mean and
     * 1/sqrt(var + eps) for backward; running = (1 − momentum) · running + momentum · batch statistic.
     */
    public final void forwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float momentum, float eps, Tensor y, Tensor savedMean, Tensor savedInvStd) {
        final String op = "batch norm forward (training)";
        check(op, "input", x, inputShape);
        check(op, "gamma", gamma, channelShape);
        check(op, "beta", beta, channelShape);
        check(op, "running mean", runningMean, channelShape);
        check(op, "running variance", runningVar, channelShape);
        check(op, "saved mean", savedMean, channelShape);
        check(op, "saved inverse std", savedInvStd, channelShape);
        check(op, "output", y, inputShape);
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

    /** y = gamma · (x − running mean) / sqrt(running var + eps) + beta. */
    public final void forwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                       float eps, Tensor y) {
        final String op = "batch norm forward (inference)";
        check(op, "input", x, inputShape);
        check(op, "gamma", gamma, channelShape);
        check(op, "beta", beta, channelShape);
        check(op, "running mean", runningMean, channelShape);
        check(op, "running variance", runningVar, channelShape);
        check(op, "output", y, inputShape);
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
     */
    public final void backward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                               float eps, Tensor gradInput, Tensor gammaGrad, Tensor betaGrad) {
        final String op = "batch norm backward";
        if (!(eps > 0)) {
            throw new IllegalArgumentException(op + ": eps must be > 0, got " + eps);
        }
        check(op, "input", x, inputShape);
        check(op, "output gradient", gradOutput, inputShape);
        check(op, "input gradient", gradInput, inputShape);
        check(op, "gamma", gamma, channelShape);
        check(op, "saved mean", savedMean, channelShape);
        check(op, "saved inverse std", savedInvStd, channelShape);
        check(op, "gamma gradient", gammaGrad, channelShape);
        check(op, "beta gradient", betaGrad, channelShape);
        try (Device.Guard ignored = device.enter()) {
            doBackward(x, gradOutput, gamma, savedMean, savedInvStd, eps, gradInput, gammaGrad, betaGrad);
        }
    }

    private void check(String op, String role, Tensor tensor, Shape expected) {
        Checks.f32(op, role, tensor, device);
        Checks.shape(op, role, tensor, expected);
    }

    protected abstract void doForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                              Tensor runningVar, float momentum, float eps, Tensor y,
                                              Tensor savedMean, Tensor savedInvStd);

    protected abstract void doForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                                               Tensor runningVar, float eps, Tensor y);

    protected abstract void doBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor savedMean,
                                       Tensor savedInvStd, float eps, Tensor gradInput, Tensor gammaGrad, Tensor betaGrad);

    @Override
    public void close() {
    }
}
