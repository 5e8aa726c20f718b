package dev.isthmus.optim;

import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam (torch.optim.Adam: weight decay added to the gradient) and AdamW (torch.optim.AdamW:
 * decoupled decay, param ·= 1 − lr·wd before the update). Defaults as in PyTorch: betas (0.9,
 * 0.999), eps 1e-8; weight decay 0 for Adam, 0.01 for AdamW.
 */
public final class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private final State expAvg;
    private final State expAvgSq;

    /**
     * {@return PyTorch's {@code Adam(params, lr)}: betas (0.9, 0.999), eps 1e-8, no weight decay}
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     */
    public static Adam adam(List<Parameter> parameters, double learningRate) {
        return new Adam(parameters, learningRate, 0.9, 0.999, 1e-8, 0, false);
    }

    /**
     * {@return PyTorch's {@code AdamW(params, lr)}: betas (0.9, 0.999), eps 1e-8, decoupled weight decay 0.01}
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     */
    public static Adam adamW(List<Parameter> parameters, double learningRate) {
        return new Adam(parameters, learningRate, 0.9, 0.999, 1e-8, 0.01, true);
    }

    /**
     * Adam, or AdamW when {@code decoupled}, with PyTorch's arguments.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     * @param beta1 the decay of the first moment
     * @param beta2 the decay of the second moment
     * @param eps added for numerical stability
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param decoupled true for AdamW's decoupled weight decay, false for Adam's L2 penalty
     */
    public Adam(List<Parameter> parameters, double learningRate, double beta1, double beta2, double eps,
                double weightDecay, boolean decoupled) {
        super(parameters, learningRate);
        String name = decoupled ? "AdamW" : "Adam";
        requireUnitInterval(name, "beta1", beta1);
        requireUnitInterval(name, "beta2", beta2);
        requireNonNegative(name, "eps", eps);
        requireNonNegative(name, "weight decay", weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        State[] state = newState("exp_avg", "exp_avg_sq");
        this.expAvg = state[0];
        this.expAvgSq = state[1];
    }

    @Override
    protected void update(int run, Tensor value, Tensor grad, int step, double learningRate, double weightDecay) {
        value.device().optimizers().adam(value, grad, expAvg.of(run), expAvgSq.of(run), (float) learningRate, (float) beta1,
                (float) beta2, (float) eps, (float) weightDecay, decoupled, step);
    }

    @Override
    protected double defaultWeightDecay() {
        return weightDecay;
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("lr", learningRate());
        hyper.put("betas", List.of(beta1, beta2));
        hyper.put("eps", eps);
        hyper.put("weight_decay", weightDecay);
        hyper.put("decoupled", decoupled);
        return hyper;
    }

    @Override
    public String describe() {
        return (decoupled ? "AdamW" : "Adam") + "(lr=" + learningRate() + ", betas=(" + beta1 + ", " + beta2 + "), eps="
                + eps + ", weight_decay=" + weightDecay + ")";
    }
}
