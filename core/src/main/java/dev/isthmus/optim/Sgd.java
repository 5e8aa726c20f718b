package dev.isthmus.optim;

import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch.optim.SGD). */
public final class Sgd extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;
    private final State momentumBuffers;

    /**
     * PyTorch's {@code SGD(params, lr)}: no momentum, no weight decay.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     */
    public Sgd(List<Parameter> parameters, double learningRate) {
        this(parameters, learningRate, 0, 0, 0, false);
    }

    /**
     * PyTorch's {@code SGD(params, lr, momentum, dampening, weight_decay, nesterov)}.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     * @param momentum the momentum factor
     * @param dampening the dampening of the momentum
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param nesterov whether to use Nesterov momentum
     */
    public Sgd(List<Parameter> parameters, double learningRate, double momentum, double dampening,
               double weightDecay, boolean nesterov) {
        super(parameters, learningRate);
        requireNonNegative("SGD", "momentum", momentum);
        requireNonNegative("SGD", "dampening", dampening);
        requireNonNegative("SGD", "weight decay", weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        this.momentumBuffers = momentum != 0 ? newState("momentum_buffer")[0] : null;
    }

    @Override
    protected void update(int run, Tensor value, Tensor grad, int step, double learningRate, double weightDecay) {
        value.device().optimizers().sgd(value, grad, momentumBuffers == null ? null : momentumBuffers.of(run),
                (float) learningRate, (float) momentum, (float) dampening, (float) weightDecay, nesterov, step == 1);
    }

    @Override
    protected double defaultWeightDecay() {
        return weightDecay;
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("lr", learningRate());
        hyper.put("momentum", momentum);
        hyper.put("dampening", dampening);
        hyper.put("weight_decay", weightDecay);
        hyper.put("nesterov", nesterov);
        return hyper;
    }

    @Override
    public String describe() {
        return "SGD(lr=" + learningRate() + (momentum != 0 ? ", momentum=" + momentum : "")
                + (dampening != 0 ? ", dampening=" + dampening : "") + (weightDecay != 0 ? ", weight_decay=" + weightDecay : "")
                + (nesterov ? ", nesterov" : "") + ")";
    }
}
