package dev.isthmus.optim;

import dev.isthmus.device.Device;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 *
 * <p>Parameter groups ({@link #setParameterGroups}, PyTorch's {@code param_groups}) give parameters
 * by name prefix their own learning rate, weight decay and L1 penalty. A step then makes one call per
 * <em>run</em>: a stretch of consecutive parameters of one group, fused when their memory is
 * contiguous (a model's classifier head, its backbone), else one call per parameter. Groups change
 * no state name, so checkpoints look the same with or without them.
 */
public abstract class Optimizer implements AutoCloseable {
    /** The index {@link State#of} takes for the state of every parameter at once. */
    protected static final int ALL = -1;

    /** The parameters updated, in order. */
    protected final List<Parameter> parameters;
    private final double initialLearningRate;
    private double learningRate;
    private int steps;
    private final List<String> stateKeys = new ArrayList<>();
    private final List<State> states = new ArrayList<>();
    private final long[] offsets;
    private final Tensor flatValues;
    private final Tensor flatGrads;
    private Tensor stateBlock;
    private boolean fuse;
    private List<Group> groups;
    private Group[] groupOf;
    private List<Run> runs = List.of();

    /** A kind of state: one view per parameter, one over all of them, and one per run of a step. */
    protected static final class State {
        private final Tensor all;
        private final Tensor[] perParameter;
        private Tensor[] perRun;

        private State(Tensor all, Tensor[] perParameter) {
            this.all = all;
            this.perParameter = perParameter;
        }

        /**
         * The state of the run {@link #update} was called with, or of every parameter for {@link #ALL}.
         *
         * @param run the run
         * @return the of
         */
        public Tensor of(int run) {
            return run == ALL ? all : perRun[run];
        }
    }

    /** A parameter group as the optimizer applies it; {@code rule} null for the parameters no rule covers. */
    private record Group(ParameterGroup rule, List<String> names) {
    }

    /** Consecutive parameters [from, to) of one group, updated by one call on {@code values} and {@code grads}. */
    private record Run(int from, int to, Group group, Tensor values, Tensor grads) {
    }

    /**
     * Makes one from its parts.
     *
     * @param parameters the parameters to update
     * @param learningRate the learning rate
     */
    protected Optimizer(List<Parameter> parameters, double learningRate) {
        if (parameters == null || parameters.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters to optimize");
        }
        this.parameters = List.copyOf(parameters);
        Device device = this.parameters.get(0).value().device();
        List<Tensor> values = new ArrayList<>();
        List<Tensor> grads = new ArrayList<>();
        offsets = new long[this.parameters.size() + 1];
        for (int i = 0; i < this.parameters.size(); i++) {
            Parameter parameter = this.parameters.get(i);
            if (parameter.value().device() != device || parameter.grad().device() != device) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameters live on more than one device ("
                        + device.name() + " and " + parameter.value().device().name() + " for " + parameter.name() + ")");
            }
            values.add(parameter.value());
            grads.add(parameter.grad());
            offsets[i + 1] = offsets[i] + parameter.value().elementCount();
        }
        this.flatValues = Tensor.flatSpan(values);
        this.flatGrads = flatValues == null ? null : Tensor.flatSpan(grads);
        setLearningRate(learningRate);
        this.initialLearningRate = learningRate;
        this.fuse = true;
        List<String> names = new ArrayList<>();
        for (Parameter parameter : this.parameters) {
            names.add(parameter.name());
        }
        Group everything = new Group(null, names);
        this.groups = List.of(everything);
        this.groupOf = new Group[this.parameters.size()];
        java.util.Arrays.fill(groupOf, everything);
        planRuns();
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
        long total = offsets[parameters.size()];
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
                views[i] = stateBlock.slice(offset + offsets[i], parameters.get(i).value().shape());
            }
            made[k] = new State(stateBlock.slice(offset, Shape.of(perKind)), views);
            made[k].perRun = runViews(made[k]);
            stateKeys.add(keys[k]);
            states.add(made[k]);
        }
        return made;
    }

    /** A state kind's view for each run: the parameter's own, or a slice over the run. */
    private Tensor[] runViews(State state) {
        Tensor[] views = new Tensor[runs.size()];
        for (int r = 0; r < views.length; r++) {
            Run run = runs.get(r);
            views[r] = run.to - run.from == 1 ? state.perParameter[run.from]
                    : state.all.slice(offsets[run.from], Shape.of(Math.toIntExact(offsets[run.to] - offsets[run.from])));
        }
        return views;
    }

    /**
     * Splits the parameters into runs: stretches of one group, each one call when fusing and its
     * values and gradients are contiguous, else one call per parameter. The state views follow.
     */
    private void planRuns() {
        List<Run> planned = new ArrayList<>();
        int from = 0;
        while (from < parameters.size()) {
            int to = from + 1;
            while (to < parameters.size() && groupOf[to] == groupOf[from]) {
                to++;
            }
            Tensor values = null;
            Tensor grads = null;
            if (fuse && to - from > 1) {
                List<Tensor> valueList = new ArrayList<>();
                List<Tensor> gradList = new ArrayList<>();
                for (int i = from; i < to; i++) {
                    valueList.add(parameters.get(i).value());
                    gradList.add(parameters.get(i).grad());
                }
                values = Tensor.flatSpan(valueList);
                grads = values == null ? null : Tensor.flatSpan(gradList);
            }
            if (values != null && grads != null) {
                planned.add(new Run(from, to, groupOf[from], values, grads));
            } else {
                for (int i = from; i < to; i++) {
                    planned.add(new Run(i, i + 1, groupOf[i], parameters.get(i).value(), parameters.get(i).grad()));
                }
            }
            from = to;
        }
        runs = List.copyOf(planned);
        for (State state : states) {
            state.perRun = runViews(state);
        }
    }

    /**
     * Gives parameters their own learning rate, weight decay and L1 penalty by name prefix, as
     * PyTorch's parameter groups: each parameter follows the first rule that covers it, and
     * those no rule covers keep the optimizer's learning rate and weight decay, without L1. A
     * schedule scales every group's learning rate by the same factor (PyTorch's schedulers do
     * so for each group's initial rate), the optimizer's {@link #learningRate()} being the reference.
     *
     * @param rules the groups, first match wins
     * @throws IllegalArgumentException when a rule other than {@code *} covers no parameter, naming it
     */
    public final void setParameterGroups(List<ParameterGroup> rules) {
        if (rules == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter groups must not be null");
        }
        List<List<String>> members = new ArrayList<>();
        for (int g = 0; g <= rules.size(); g++) {
            members.add(new ArrayList<>());
        }
        int[] chosen = new int[parameters.size()];
        for (int i = 0; i < parameters.size(); i++) {
            String name = parameters.get(i).name();
            int rule = rules.size();
            for (int g = 0; g < rules.size(); g++) {
                if (rules.get(g).covers(name)) {
                    rule = g;
                    break;
                }
            }
            chosen[i] = rule;
            members.get(rule).add(name);
        }
        for (int g = 0; g < rules.size(); g++) {
            if (members.get(g).isEmpty() && !rules.get(g).prefix().equals("*")) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter group '" + rules.get(g).prefix()
                        + "' covers no parameter (an earlier group may have taken them); the parameters are "
                        + describeNames());
            }
        }
        List<Group> made = new ArrayList<>();
        Group[] byRule = new Group[rules.size() + 1];
        for (int g = 0; g <= rules.size(); g++) {
            if (!members.get(g).isEmpty()) {
                byRule[g] = new Group(g < rules.size() ? rules.get(g) : null, List.copyOf(members.get(g)));
                made.add(byRule[g]);
            }
        }
        for (int i = 0; i < parameters.size(); i++) {
            groupOf[i] = byRule[chosen[i]];
        }
        groups = List.copyOf(made);
        planRuns();
    }

    private String describeNames() {
        List<String> names = new ArrayList<>();
        for (Parameter parameter : parameters) {
            names.add(parameter.name());
        }
        return names.size() <= 12 ? names.toString() : names.subList(0, 12) + " and " + (names.size() - 12) + " more";
    }

    /**
     * Each group's facts by PyTorch's names (prefix, lr, weight_decay, l1, params), for checkpoints and logs.
     *
     * @return the parameter groups
     */
    public final List<Map<String, Object>> parameterGroups() {
        List<Map<String, Object>> described = new ArrayList<>();
        for (Group group : groups) {
            Map<String, Object> facts = new LinkedHashMap<>();
            facts.put("prefix", group.rule == null ? "(rest)" : group.rule.prefix());
            facts.put("lr", learningRateOf(group));
            facts.put("weight_decay", weightDecayOf(group));
            facts.put("l1", group.rule == null ? 0.0 : group.rule.l1());
            facts.put("params", group.names);
            described.add(facts);
        }
        return described;
    }

    private double learningRateOf(Group group) {
        if (group.rule == null) {
            return learningRate;
        }
        // The schedule's factor, applied to the group's own starting rate.
        return initialLearningRate == 0 ? group.rule.learningRate()
                : group.rule.learningRate() * (learningRate / initialLearningRate);
    }

    private double weightDecayOf(Group group) {
        return group.rule == null || Double.isNaN(group.rule.weightDecay()) ? defaultWeightDecay() : group.rule.weightDecay();
    }

    /**
     * Whether every stretch of parameters is one call (true by default when the parameters and
     * their gradients are each one contiguous block, as a built model's are).
     *
     * @return whether is fused
     */
    public final boolean isFused() {
        if (!fuse) {
            return false;
        }
        for (int r = 0; r < runs.size(); r++) {
            Run run = runs.get(r);
            if (run.to - run.from == 1 && (r > 0 && runs.get(r - 1).group == run.group
                    || r + 1 < runs.size() && runs.get(r + 1).group == run.group)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Chooses fused calls or one call per parameter (they give the same result; per parameter is
     * slower, for comparison).
     *
     * @param fused true for one call over all parameters, false for one call per parameter
     * @throws IllegalArgumentException when fusing is asked for parameters that are not one block
     *                                  and form a single group
     */
    public final void setFused(boolean fused) {
        if (fused && groups.size() == 1 && (flatValues == null || flatGrads == null)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a fused step needs the parameters and their"
                    + " gradients back to back in one block each, as a built model's are");
        }
        this.fuse = fused;
        planRuns();
    }

    /**
     * Applies one update to every parameter, run by run; the step count (from 1) drives bias
     * corrections. A group's L1 penalty is added to its gradients first.
     */
    public final void step() {
        steps++;
        for (int r = 0; r < runs.size(); r++) {
            Run run = runs.get(r);
            Group group = run.group;
            if (group.rule != null && group.rule.l1() > 0) {
                run.values.device().optimizers().l1Penalty(run.values, run.grads, (float) group.rule.l1());
            }
            update(r, run.values, run.grads, steps, learningRateOf(group), weightDecayOf(group));
        }
    }

    /**
     * Updates one run (a parameter, or consecutive parameters as one flat tensor) from its
     * gradient, with its state from {@link State#of}{@code (run)}, at its group's learning rate and weight decay.
     *
     * @param run the run
     * @param value the values
     * @param grad the gradients
     * @param step the step number, from 1
     * @param learningRate the learning rate
     * @param weightDecay the weight decay (L2)
     */
    protected abstract void update(int run, Tensor value, Tensor grad, int step, double learningRate, double weightDecay);

    /**
     * The weight decay of parameters whose group does not set its own (the constructor's).
     *
     * @return the default weight decay
     */
    protected abstract double defaultWeightDecay();

    /** Sets every gradient to zero (one fill when they are one block). */
    public final void zeroGrad() {
        if (flatGrads != null) {
            flatGrads.device().elementwise().fill(flatGrads, 0f);
            return;
        }
        for (int r = 0; r < runs.size(); r++) {
            Tensor grads = runs.get(r).grads;
            grads.device().elementwise().fill(grads, 0f);
        }
    }

    /**
     * The reference learning rate: that of parameters in no group, and what a schedule sets.
     *
     * @return the learning rate
     */
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
                state.add(new NamedTensor(parameters.get(i).name() + "." + stateKeys.get(k), states.get(k).perParameter[i]));
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
