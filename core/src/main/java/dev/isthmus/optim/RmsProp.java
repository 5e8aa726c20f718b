package dev.isthmus.optim;

import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** RMSprop (torch.optim.RMSprop): defaults alpha 0.99, eps 1e-8, optional centering and momentum. */
public final class RmsProp extends Optimizer {
    private final double alpha;
    private final double eps;
    private final double weightDecay;
    private final double momentum;
    private final boolean centered;
    private final State squareAvg;
    private final State gradAvg;
    private final State momentumBuffers;

    /**
     * PyTorch's {@code RMSprop(params, lr)}: alpha 0.99, eps 1e-8, no weight decay, no momentum, not centered.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     */
    public RmsProp(List<Parameter> parameters, double learningRate) {
        this(parameters, learningRate, 0.99, 1e-8, 0, 0, false);
    }

    /**
     * PyTorch's {@code RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered)}.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     * @param alpha the scale
     * @param eps added for numerical stability
     * @param weightDecay the L2 penalty (weight_decay), at least 0
     * @param momentum the momentum factor
     * @param centered whether to normalise by the gradient's variance rather than its second moment
     */
    public RmsProp(List<Parameter> parameters, double learningRate, double alpha, double eps, double weightDecay,
                   double momentum, boolean centered) {
        super(parameters, learningRate);
        requireNonNegative("RMSprop", "alpha", alpha);
        requireNonNegative("RMSprop", "eps", eps);
        requireNonNegative("RMSprop", "weight decay", weightDecay);
        requireNonNegative("RMSprop", "momentum", momentum);
        this.alpha = alpha;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        this.centered = centered;
        // In this order in state(), as before: square_avg, momentum_buffer, grad_avg.
        List<String> keys = new ArrayList<>(List.of("square_avg"));
        if (momentum > 0) {
            keys.add("momentum_buffer");
        }
        if (centered) {
            keys.add("grad_avg");
        }
        State[] state = newState(keys.toArray(String[]::new));
        this.squareAvg = state[0];
        this.momentumBuffers = momentum > 0 ? state[1] : null;
        this.gradAvg = centered ? state[state.length - 1] : null;
    }

    @Override
    protected void update(int run, Tensor value, Tensor grad, int step, double learningRate, double weightDecay) {
        value.device().optimizers().rmsprop(value, grad, squareAvg.of(run), gradAvg == null ? null : gradAvg.of(run),
                momentumBuffers == null ? null : momentumBuffers.of(run), (float) learningRate, (float) alpha,
                (float) eps, (float) weightDecay, (float) momentum);
    }

    @Override
    protected double defaultWeightDecay() {
        return weightDecay;
    }

    @Override
    public Map<String, Object> hyperparameters() {
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("lr", learningRate());
        hyper.put("alpha", alpha);
        hyper.put("eps", eps);
        hyper.put("weight_decay", weightDecay);
        hyper.put("momentum", momentum);
        hyper.put("centered", centered);
        return hyper;
    }

    @Override
    public String describe() {
        return "RMSprop(lr=" + learningRate() + ", alpha=" + alpha + ", eps=" + eps
                + (weightDecay != 0 ? ", weight_decay=" + weightDecay : "") + (momentum != 0 ? ", momentum=" + momentum : "")
                + (centered ? ", centered" : "") + ")";
    }
}
