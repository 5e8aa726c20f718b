package dev.isthmus.optim;

import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adagrad (torch.optim.Adagrad): the rate decays as lr / (1 + (step − 1)·lr_decay); the sum of
 * squared gradients starts at {@code initialAccumulatorValue}; eps 1e-10 by default.
 */
public final class AdaGrad extends Optimizer {
    private final double learningRateDecay;
    private final double weightDecay;
    private final double initialAccumulatorValue;
    private final double eps;
    private final State sums;

    /**
     * PyTorch's {@code Adagrad} with its defaults: no rate decay, no weight decay, accumulators from 0, eps 1e-10.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     */
    public AdaGrad(List<Parameter> parameters, double learningRate) {
        this(parameters, learningRate, 0, 0, 0, 1e-10);
    }

    /**
     * PyTorch's {@code Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps)}.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     * @param learningRateDecay the decay of the rate per step (lr_decay)
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param initialAccumulatorValue the starting value of the sums of squares
     * @param eps added for numerical stability
     */
    public AdaGrad(List<Parameter> parameters, double learningRate, double learningRateDecay, double weightDecay,
                   double initialAccumulatorValue, double eps) {
        super(parameters, learningRate);
        requireNonNegative("Adagrad", "lr_decay", learningRateDecay);
        requireNonNegative("Adagrad", "weight decay", weightDecay);
        requireNonNegative("Adagrad", "initial accumulator value", initialAccumulatorValue);
        requireNonNegative("Adagrad", "eps", eps);
        this.learningRateDecay = learningRateDecay;
        this.weightDecay = weightDecay;
        this.initialAccumulatorValue = initialAccumulatorValue;
        this.eps = eps;
        this.sums = newState("sum")[0];
        Tensor all = sums.of(ALL);
        all.device().elementwise().fill(all, (float) initialAccumulatorValue);
    }

    @Override
    protected void update(int run, Tensor value, Tensor grad, int step, double learningRate, double weightDecay) {
        double decayedRate = learningRate / (1 + (step - 1) * learningRateDecay);
        value.device().optimizers().adagrad(value, grad, sums.of(run), (float) decayedRate, (float) eps, (float) weightDecay);
    }

    @Override
    protected double defaultWeightDecay() {
        return weightDecay;
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("lr", learningRate());
        hyper.put("lr_decay", learningRateDecay);
        hyper.put("weight_decay", weightDecay);
        hyper.put("initial_accumulator_value", initialAccumulatorValue);
        hyper.put("eps", eps);
        return hyper;
    }

    @Override
    public String describe() {
        return "Adagrad(lr=" + learningRate() + (learningRateDecay != 0 ? ", lr_decay=" + learningRateDecay : "")
                + (weightDecay != 0 ? ", weight_decay=" + weightDecay : "") + ")";
    }
}
