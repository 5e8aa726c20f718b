package dev.isthmus.optim;

import dev.isthmus.device.Device;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients with the rules of {@code torch.optim}. Its
 * state (momentum buffers, moment estimates) lives on the parameters' device in one block, a view
 * per parameter and kind, allocated up front so a step allocates nothing; {@link #state()} names
 * them {@code <parameter>.<key>} with PyTorch's keys, for checkpoints.
 *
 * <p>Every rule here is element by element. So when the parameters lie back to back in one block
 * and their gradients in another (a built {@link dev.isthmus.nn.Model}'s do), a step is <em>fused</em>:
 * one kernel call over the flat blocks (PyTorch's multi-tensor "foreach" step, in one launch)
 * instead of one per parameter, with the same result to the bit. Otherwise, one call per parameter.
 */
public abstract class Optimizer implements AutoCloseable {
    /** The index {@link #update} is called with for a fused step over all parameters at once. */
    protected static final int ALL = -1;

    /** The parameters updated, in order. */
    protected final List<Parameter> parameters;
    private double learningRate;
    private int steps;
    private final List<String> stateKeys = new ArrayList<>();
    private final List<State> states = new ArrayList<>();
    private final Tensor flatValues;
    private final Tensor flatGrads;
    private Tensor stateBlock;
    private boolean fused;

    /** A kind of state: one view per parameter, and one over all of them (for a fused step). */
    protected static final class State {
        private final Tensor all;
        private final Tensor[] perParameter;

        private State(Tensor all, Tensor[] perParameter) {
            this.all = all;
            this.perParameter = perParameter;
        }

        /**
         * The state of parameter {@code index}, or of all parameters for {@link #ALL}.
         *
         * @param index the parameter, or {@link Optimizer#ALL}
         * @return the state of parameter {@code index}, or of all parameters for {@link #ALL}
         */
        public Tensor of(int index) {
            return index == ALL ? all : perParameter[index];
        }
    }

    /**
     * For subclasses: an optimizer of {@code parameters} at base rate {@code learningRate}.
     *
     * @param parameters the parameters to update
     * @param learningRate the base learning rate
     */
    protected Optimizer(List<Parameter> parameters, double learningRate) {
        if (parameters == null || parameters.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimize");
        }
        this.parameters = List.copyOf(parameters);
        Device device = this.parameters.get(0).value().device();
        List<Tensor> values = new ArrayList<>();
        List<Tensor> grads = new ArrayList<>();
        for (Parameter parameter : this.parameters) {
            if (parameter.value().device() != device || parameter.grad().device() != device) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameters live on more than one device ("
                        + device.name() + " and " + parameter.value().device().name() + " for " + parameter.name() + ")");
            }
            values.add(parameter.value());
            grads.add(parameter.grad());
        }
        this.flatValues = Tensor.flatSpan(values);
        this.flatGrads = flatValues == null ? null : Tensor.flatSpan(grads);
        this.fused = flatValues != null && flatGrads != null;
        setLearningRate(learningRate);
    }

    /**
     * Allocates the state kinds {@code keys} (PyTorch's state keys), zero-filled, in one block: for
     * each kind, every parameter's state back to back. Called once, by the constructor.
     *
     * @param keys the state kinds, by PyTorch's names ({@code momentum_buffer}, {@code exp_avg})
     * @return one state per kind
     */
    protected final State[] newState(String... keys) {
        if (stateBlock != null) {
            throw new IllegalStateException(getClass().getSimpleName() + ": state is allocated once");
        }
        long total = 0;
        for (Parameter parameter : parameters) {
            total += parameter.value().elementCount();
        }
        State[] made = new State[keys.length];
        if (keys.length == 0) {
            return made;
        }
        Device device = parameters.get(0).value().device();
        int perKind = Math.toIntExact(total);
        stateBlock = device.allocate(Shape.of(Math.toIntExact(total * keys.length)));
        for (int k = 0; k < keys.length; k++) {
            long offset = (long) k * perKind;
            Tensor[] views = new Tensor[parameters.size()];
            for (int i = 0; i < views.length; i++) {
                Tensor value = parameters.get(i).value();
                views[i] = stateBlock.slice(offset, value.shape());
                offset += value.elementCount();
            }
            made[k] = new State(stateBlock.slice((long) k * perKind, Shape.of(perKind)), views);
            stateKeys.add(keys[k]);
            states.add(made[k]);
        }
        return made;
    }

    /**
     * Whether a step is one call over all parameters; true by default when the parameters and
     * their gradients are each one contiguous block.
     *
     * @return whether a step is one call over all parameters; true by default when the parameters and their gradients are each one contiguous block
     */
    public final boolean isFused() {
        return fused;
    }

    /**
     * Chooses the fused step or one call per parameter (they give the same result; per parameter is
     * slower, for comparison).
     *
     * @param fused true for one call over all parameters, false for one call per parameter
     * @throws IllegalArgumentException when fusing is asked for parameters that are not one block
     */
    public final void setFused(boolean fused) {
        if (fused && (flatValues == null || flatGrads == null)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a fused step needs the parameters and their"
                    + " gradients back to back in one block each, as a built model's are");
        }
        this.fused = fused;
    }

    /** Applies one update to every parameter; the step count (from 1) drives bias corrections. */
    public final void step() {
        steps++;
        if (fused) {
            update(ALL, flatValues, flatGrads, steps);
            return;
        }
        for (int i = 0; i < parameters.size(); i++) {
            Parameter parameter = parameters.get(i);
            update(i, parameter.value(), parameter.grad(), steps);
        }
    }

    /**
     * Updates parameter {@code index} from its gradient, or, for {@link #ALL}, every parameter at
     * once through the flat blocks (state from {@link State#of} with the same index).
     *
     * @param index the parameter, or {@link Optimizer#ALL}
     * @param value the parameter's value (the flat block for ALL)
     * @param grad its gradient (the flat block for ALL)
     * @param step the step number, from 1
     */
    protected abstract void update(int index, Tensor value, Tensor grad, int step);

    /** Sets every gradient to zero (one fill when they are one block). */
    public final void zeroGrad() {
        if (flatGrads != null) {
            flatGrads.device().elementwise().fill(flatGrads, 0f);
            return;
        }
        for (Parameter parameter : parameters) {
            parameter.grad().device().elementwise().fill(parameter.grad(), 0f);
        }
    }

    /** {@return the current learning rate} */
    public final double learningRate() {
        return learningRate;
    }

    /**
     * Sets the learning rate used from the next step on.
     *
     * @param learningRate the base learning rate
     */
    public final void setLearningRate(double learningRate) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got "
                    + learningRate);
        }
        this.learningRate = learningRate;
    }

    /**
     * Steps taken so far.
     *
     * @return steps taken so far
     */
    public final int stepCount() {
        return steps;
    }

    /**
     * Restores the step count (from a checkpoint, together with {@link #state()}).
     *
     * @param steps the step count
     */
    public final void setStepCount(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("step count must be >= 0, got " + steps);
        }
        this.steps = steps;
    }

    /** {@return the parameters updated, in order} */
    public final List<Parameter> parameters() {
        return parameters;
    }

    /**
     * Every state tensor, named {@code <parameter>.<key>}.
     *
     * @return every state tensor, named {@code <parameter>.<key>}
     */
    public final List<NamedTensor> state() {
        List<NamedTensor> state = new ArrayList<>();
        for (int k = 0; k < stateKeys.size(); k++) {
            for (int i = 0; i < parameters.size(); i++) {
                state.add(new NamedTensor(parameters.get(i).name() + "." + stateKeys.get(k), states.get(k).of(i)));
            }
        }
        return state;
    }

    /**
     * The hyperparameters, by PyTorch's names, for checkpoints and logs.
     *
     * @return the hyperparameters, by PyTorch's names, for checkpoints and logs
     */
    public abstract Map<String, Object> hyperparameters();

    /** {@return the optimizer and its hyperparameters in one line, for logs} */
    public abstract String describe();

    @Override
    public void close() {
        if (stateBlock != null) {
            stateBlock.close();
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
