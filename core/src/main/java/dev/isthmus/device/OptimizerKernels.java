package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/**
 * The optimizer family: PyTorch's update rules applied to one parameter tensor (or to a whole
 * contiguous block of parameters at once, which is the same arithmetic on a longer tensor).
 */
public final class OptimizerKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        /**
         * PyTorch's SGD update; see {@link OptimizerKernels#sgd}.
         *
         * @param param the parameter, updated in place
         * @param grad the gradient, dL/dparam
         * @param momentumBuffer the momentum buffer, updated in place (null without momentum)
         * @param lr the learning rate
         * @param momentum the momentum factor
         * @param dampening the dampening of the momentum
         * @param weightDecay the L2 penalty (weight_decay), at least 0
         * @param nesterov whether to use Nesterov momentum
         * @param firstStep whether this is the first step (the momentum buffer starts as the gradient)
         */
        void sgd(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                 float weightDecay, boolean nesterov, boolean firstStep);

        /**
         * PyTorch's Adam or AdamW update; see {@link OptimizerKernels#adam}.
         *
         * @param param the parameter, updated in place
         * @param grad the gradient, dL/dparam
         * @param expAvg the first-moment estimate m, updated in place
         * @param expAvgSq the second-moment estimate v, updated in place
         * @param lr the learning rate
         * @param beta1 the decay of the first moment
         * @param beta2 the decay of the second moment
         * @param eps added for numerical stability
         * @param weightDecay the L2 penalty (weight_decay), at least 0
         * @param decoupled true for AdamW's decoupled weight decay, false for Adam's L2 penalty
         * @param step the step, from 1
         */
        void adam(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1, float beta2,
                  float eps, float weightDecay, boolean decoupled, int step);

        /**
         * PyTorch's RMSprop update; see {@link OptimizerKernels#rmsprop}.
         *
         * @param param the parameter, updated in place
         * @param grad the gradient, dL/dparam
         * @param squareAvg the running mean of g², updated in place
         * @param gradAvg the running mean of g when centered, updated in place, else null
         * @param momentumBuffer the momentum buffer, updated in place (null without momentum)
         * @param lr the learning rate
         * @param alpha the scale
         * @param eps added for numerical stability
         * @param weightDecay the L2 penalty (weight_decay), at least 0
         * @param momentum the momentum factor
         */
        void rmsprop(Tensor param, Tensor grad, Tensor squareAvg, Tensor gradAvg, Tensor momentumBuffer, float lr,
                     float alpha, float eps, float weightDecay, float momentum);

        /**
         * PyTorch's Adagrad update; see {@link OptimizerKernels#adagrad}.
         *
         * @param param the parameter, updated in place
         * @param grad the gradient, dL/dparam
         * @param sum the running sum of g², updated in place
         * @param clr the step's decayed learning rate
         * @param eps added for numerical stability
         * @param weightDecay the L2 penalty (weight_decay), at least 0
         */
        void adagrad(Tensor param, Tensor grad, Tensor sum, float clr, float eps, float weightDecay);

        /**
         * grad += l1 · sign(param), sign(0) = 0.
         *
         * @param param the param
         * @param grad the gradients
         * @param l1 the L1 penalty
         */
        void l1Penalty(Tensor param, Tensor grad, float l1);
    }

    private final Device device;
    private final Backend backend;

    OptimizerKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /**
     * PyTorch's SGD: g = grad + weightDecay·param; with momentum, buf = g on the first step, else
     * momentum·buf + (1 − dampening)·g, and g = g + momentum·buf (Nesterov) or buf; param −= lr·g.
     * {@code momentumBuffer} is null when momentum is 0.
     *
     * @param param the parameter, updated in place
     * @param grad the gradient, dL/dparam
     * @param momentumBuffer the momentum buffer, updated in place (null without momentum)
     * @param lr the learning rate
     * @param momentum the momentum factor
     * @param dampening the dampening of the momentum
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param nesterov whether to use Nesterov momentum
     * @param firstStep whether this is the first step (the momentum buffer starts as the gradient)
     */
    public void sgd(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                    float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        final String op = "sgd step";
        checkUpdate(op, param, grad);
        if (momentum != 0) {
            checkState(op, "momentum buffer", param, momentumBuffer);
        }
        try (Device.Guard ignored = device.enter()) {
            backend.sgd(param, grad, momentum != 0 ? momentumBuffer : null, lr, momentum, dampening, weightDecay, nesterov,
                    firstStep);
        }
    }

    /**
     * PyTorch's Adam (decoupled = false) and AdamW (decoupled = true) at step {@code step} (from 1):
     * m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; param −= lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps).
     *
     * @param param the parameter, updated in place
     * @param grad the gradient, dL/dparam
     * @param expAvg the first-moment estimate m, updated in place
     * @param expAvgSq the second-moment estimate v, updated in place
     * @param lr the learning rate
     * @param beta1 the decay of the first moment
     * @param beta2 the decay of the second moment
     * @param eps added for numerical stability
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param decoupled true for AdamW's decoupled weight decay, false for Adam's L2 penalty
     * @param step the step, from 1
     */
    public void adam(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1,
                     float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        final String op = decoupled ? "adamw step" : "adam step";
        checkUpdate(op, param, grad);
        checkState(op, "exp_avg", param, expAvg);
        checkState(op, "exp_avg_sq", param, expAvgSq);
        Checks.positive(op, "step", step);
        try (Device.Guard ignored = device.enter()) {
            backend.adam(param, grad, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, decoupled, step);
        }
    }

    /**
     * PyTorch's RMSprop: sq = α·sq + (1 − α)·g²; avg = sqrt(sq − ga²) + eps when centered (ga, the
     * running mean of g, is non-null), else sqrt(sq) + eps; with momentum buf = μ·buf + g/avg and
     * param −= lr·buf, else param −= lr·g/avg.
     *
     * @param param the parameter, updated in place
     * @param grad the gradient, dL/dparam
     * @param squareAvg the running mean of g², updated in place
     * @param gradAvg the running mean of g when centered, updated in place, else null
     * @param momentumBuffer the momentum buffer, updated in place (null without momentum)
     * @param lr the learning rate
     * @param alpha the scale
     * @param eps added for numerical stability
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param momentum the momentum factor
     */
    public void rmsprop(Tensor param, Tensor grad, Tensor squareAvg, Tensor gradAvg, Tensor momentumBuffer,
                        float lr, float alpha, float eps, float weightDecay, float momentum) {
        final String op = "rmsprop step";
        checkUpdate(op, param, grad);
        checkState(op, "square_avg", param, squareAvg);
        if (gradAvg != null) {
            checkState(op, "grad_avg", param, gradAvg);
        }
        if (momentum != 0) {
            checkState(op, "momentum buffer", param, momentumBuffer);
        }
        try (Device.Guard ignored = device.enter()) {
            backend.rmsprop(param, grad, squareAvg, gradAvg, momentum != 0 ? momentumBuffer : null, lr, alpha, eps,
                    weightDecay, momentum);
        }
    }

    /**
     * PyTorch's Adagrad with the step's decayed rate {@code clr}: sum += g²; param −= clr·g/(sqrt(sum) + eps).
     *
     * @param param the parameter, updated in place
     * @param grad the gradient, dL/dparam
     * @param sum the running sum of g², updated in place
     * @param clr the step's decayed learning rate
     * @param eps added for numerical stability
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     */
    public void adagrad(Tensor param, Tensor grad, Tensor sum, float clr, float eps, float weightDecay) {
        final String op = "adagrad step";
        checkUpdate(op, param, grad);
        checkState(op, "sum", param, sum);
        try (Device.Guard ignored = device.enter()) {
            backend.adagrad(param, grad, sum, clr, eps, weightDecay);
        }
    }

    /**
     * Adds the gradient of the L1 penalty l1·Σ|param| to {@code grad}: grad += l1·sign(param), with
     * sign(0) = 0 as {@code torch.sign}. An optimizer applies it before its own update, so that
     * weight decay (L2) and the update see it as PyTorch's would a penalty added to the loss.
     *
     * @param param the param
     * @param grad the gradients
     * @param l1 the L1 penalty
     */
    public void l1Penalty(Tensor param, Tensor grad, float l1) {
        final String op = "l1 penalty";
        checkUpdate(op, param, grad);
        if (!(l1 >= 0) || Float.isInfinite(l1)) {
            throw new IllegalArgumentException(op + ": l1 must be finite and >= 0, got " + l1);
        }
        try (Device.Guard ignored = device.enter()) {
            backend.l1Penalty(param, grad, l1);
        }
    }

    private void checkUpdate(String op, Tensor param, Tensor grad) {
        DType dtype = Checks.floating(op, "parameter", param, device);
        Checks.tensor(op, "gradient", grad, device, dtype);
        Checks.sameShape(op, param, "parameter", grad, "gradient");
    }

    private void checkState(String op, String role, Tensor param, Tensor state) {
        Checks.tensor(op, role, state, device, param.dtype());
        Checks.sameShape(op, param, "parameter", state, role);
    }
}
