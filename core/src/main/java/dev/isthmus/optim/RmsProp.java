package dev.isthmus.optim;

import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Tensor;

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
    private final Tensor[] squareAvg;
    private final Tensor[] gradAvg;
    private final Tensor[] momentumBuffers;

    public RmsProp(List<Parameter> parameters, double learningRate) {
        this(parameters, learningRate, 0.99, 1e-8, 0, 0, false);
    }

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
        this.squareAvg = newState("square_avg");
        this.momentumBuffers = momentum > 0 ? newState("momentum_buffer") : null;
        this.gradAvg = centered ? newState("grad_avg") : null;
    }

    @Override
    protected void update(int index, Tensor value, Tensor grad, int step) {
        value.device().optimizers().rmsprop(value, grad, squareAvg[index], gradAvg == null ? null : gradAvg[index],
                momentumBuffers == null ? null : momentumBuffers[index], (float) learningRate(), (float) alpha,
                (float) eps, (float) weightDecay, (float) momentum);
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
