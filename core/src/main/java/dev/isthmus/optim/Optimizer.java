package dev.isthmus.optim;

import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients with the rules of {@code torch.optim}. Its
 * state (momentum buffers, moment estimates) lives on the parameters' device, one tensor per
 * parameter and kind, allocated up front so a step allocates nothing; {@link #state()} names them
 * {@code <parameter>.<key>} with PyTorch's keys, for checkpoints.
 */
public abstract class Optimizer implements AutoCloseable {
    protected final List<Parameter> parameters;
    private double learningRate;
    private int steps;
    private final Map<String, Tensor[]> stateByKey = new LinkedHashMap<>();

    protected Optimizer(List<Parameter> parameters, double learningRate) {
        if (parameters == null || parameters.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimize");
        }
        this.parameters = List.copyOf(parameters);
        setLearningRate(learningRate);
    }

    /** Allocates one zero-filled tensor per parameter under a PyTorch state key. */
    protected final Tensor[] newState(String key) {
        Tensor[] tensors = new Tensor[parameters.size()];
        for (int i = 0; i < tensors.length; i++) {
            Tensor value = parameters.get(i).value();
            tensors[i] = value.device().allocate(value.shape());
        }
        stateByKey.put(key, tensors);
        return tensors;
    }

    /** Applies one update to every parameter; the step count (from 1) drives bias corrections. */
    public final void step() {
        steps++;
        for (int i = 0; i < parameters.size(); i++) {
            Parameter parameter = parameters.get(i);
            update(i, parameter.value(), parameter.grad(), steps);
        }
    }

    protected abstract void update(int index, Tensor value, Tensor grad, int step);

    /** Sets every gradient to zero. */
    public final void zeroGrad() {
        for (Parameter parameter : parameters) {
            parameter.grad().device().elementwise().fill(parameter.grad(), 0f);
        }
    }

    public final double learningRate() {
        return learningRate;
    }

    public final void setLearningRate(double learningRate) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got "
                    + learningRate);
        }
        this.learningRate = learningRate;
    }

    /** Steps taken so far. */
    public final int stepCount() {
        return steps;
    }

    /** Restores the step count (from a checkpoint, together with {@link #state()}). */
    public final void setStepCount(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("step count must be >= 0, got " + steps);
        }
        this.steps = steps;
    }

    public final List<Parameter> parameters() {
        return parameters;
    }

    /** Every state tensor, named {@code <parameter>.<key>}. */
    public final List<NamedTensor> state() {
        List<NamedTensor> state = new ArrayList<>();
        for (Map.Entry<String, Tensor[]> entry : stateByKey.entrySet()) {
            for (int i = 0; i < parameters.size(); i++) {
                state.add(new NamedTensor(parameters.get(i).name() + "." + entry.getKey(), entry.getValue()[i]));
            }
        }
        return state;
    }

    /** The hyperparameters, by PyTorch's names, for checkpoints and logs. */
    public abstract Map<String, Object> hyperparameters();

    public abstract String describe();

    @Override
    public void close() {
        for (Tensor[] tensors : stateByKey.values()) {
            for (Tensor tensor : tensors) {
                tensor.close();
            }
        }
    }

    static void requireNonNegative(String optimizer, String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(optimizer + ": " + name + " must be finite and >= 0, got " + value);
        }
    }

    static void requireUnitInterval(String optimizer, String name, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(optimizer + ": " + name + " must be in [0, 1), got " + value);
        }
    }
}
