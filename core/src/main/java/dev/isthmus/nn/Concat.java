package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs every branch on the same input and concatenates their outputs along the channels (axis 1),
 * in branch order, as {@code torch.cat([b(x) for b in branches], dim=1)}: every other dimension of
 * the outputs must agree. Backward hands each branch its channels of dL/dy and sums the branches'
 * input gradients.
 *
 * <p>Names: {@code new Concat(a, b)} names the branches as a PyTorch {@code nn.ModuleList} called
 * {@code branches} would ({@code branches.0.weight}, {@code branches.1.0.weight}). {@link #add}
 * gives a branch a name of its own (torchvision's Inception blocks: {@code branch1x1.conv.weight});
 * a Sequential branch added under the empty name has its children named without a prefix, for
 * blocks whose branch layers are attributes of the block itself ({@code branch5x5_1},
 * {@code branch5x5_2}).
 */
public final class Concat extends Layer {
    private final List<String> names = new ArrayList<>();
    private final List<Layer> branches = new ArrayList<>();
    private final List<Integer> channelStarts = new ArrayList<>();
    private Tensor output;
    // Per branch: the buffer its slice of dL/dy is copied into, and the gradient its backward returns.
    private Tensor[] branchGradOutputs = new Tensor[0];
    private Tensor[] branchResults = new Tensor[0];

    /**
     * A concatenation of {@code branches}, named {@code branches.0}, {@code branches.1}, ...
     *
     * @param branches the branches, in concatenation order
     * @throws IllegalArgumentException when a branch is null
     */
    public Concat(Layer... branches) {
        for (Layer branch : branches) {
            add("branches." + this.branches.size(), branch);
        }
    }

    /**
     * Appends a branch under {@code name} (its parameters' prefix; dots allowed, as in
     * {@code branches.0}); the empty name is for a {@link Sequential} whose children are named
     * without a prefix.
     *
     * @param name the prefix of the branch's parameters, or "" for a Sequential's children as they are
     * @param branch the branch
     * @return this container, for chaining
     * @throws IllegalArgumentException when the branch is null, the name taken, or "" given to a non-Sequential
     * @throws IllegalStateException after setup
     */
    public Concat add(String name, Layer branch) {
        if (inputShape() != null) {
            throw new IllegalStateException("Concat: cannot add branches after setup");
        }
        if (branch == null || name == null) {
            throw new IllegalArgumentException("Concat: a branch needs a layer and a name, got '" + name + "'");
        }
        if (name.isEmpty() && !(branch instanceof Sequential)) {
            throw new IllegalArgumentException("Concat: only a Sequential branch can go unnamed (its children carry"
                    + " the names), not " + branch.describe());
        }
        if (!name.isEmpty() && names.contains(name)) {
            throw new IllegalArgumentException("Concat: two branches named '" + name + "'");
        }
        names.add(name);
        branches.add(branch);
        return this;
    }

    /** {@return the branches, in concatenation order} */
    public List<Layer> branches() {
        return List.copyOf(branches);
    }

    /** {@return the branches' names, in order ("" for one whose children are named without a prefix)} */
    public List<String> branchNames() {
        return List.copyOf(names);
    }

    @Override
    public String describe() {
        return "Concat(" + branches.size() + " branches)";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (branches.isEmpty()) {
            throw new IllegalArgumentException("Concat: no branches");
        }
        Shape first = null;
        long channels = 0;
        StringBuilder all = new StringBuilder();
        boolean agree = true;
        for (int i = 0; i < branches.size(); i++) {
            Shape shape;
            try {
                shape = branches.get(i).outputShapeOf(input);
            } catch (IllegalArgumentException mismatch) {
                throw new IllegalArgumentException("Concat branch " + label(i) + ": " + mismatch.getMessage(), mismatch);
            }
            all.append(i == 0 ? "" : ", ").append(label(i)).append(' ').append(shape);
            if (shape.rank() < 2) {
                throw new IllegalArgumentException(describe() + ": branch " + label(i) + " gives " + shape
                        + " for input " + input + "; concatenation along channels needs [N, C, ...]");
            }
            if (first == null) {
                first = shape;
            } else if (shape.rank() != first.rank() || shape.dim(0) != first.dim(0)) {
                agree = false;
            } else {
                for (int axis = 2; axis < shape.rank(); axis++) {
                    agree &= shape.dim(axis) == first.dim(axis);
                }
            }
            channels += shape.dim(1);
        }
        if (!agree) {
            throw new IllegalArgumentException(describe() + ": the branches' outputs for input " + input
                    + " differ in a dimension other than the channels (axis 1): " + all);
        }
        if (channels > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(describe() + ": " + channels + " channels in all: " + all);
        }
        int[] dims = first.dims();
        dims[1] = (int) channels;
        return Shape.of(dims);
    }

    private String label(int branch) {
        return names.get(branch).isEmpty() ? "#" + branch : "'" + names.get(branch) + "'";
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        channelStarts.clear();
        int start = 0;
        for (Layer branch : branches) {
            // A branch computes dL/dx only when this block's input gradient is wanted.
            branch.setPropagateDown(propagatesDown());
            Shape shape = branch.setup(device, input);
            channelStarts.add(start);
            start += shape.dim(1);
        }
        this.output = device.allocateActivation(output);
    }

    @Override
    protected void releaseBuffers() {
        closeAll(output);
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        for (int i = 0; i < branches.size(); i++) {
            Tensor result = branches.get(i).forward(x, training);
            device().elementwise().copyChannels(result, 0, output, channelStarts.get(i), result.shape().dim(1));
        }
        return output;
    }

    /** A branch that neither trains nor passes a gradient down needs no backward at all. */
    private boolean needsBackward(Layer branch) {
        return propagatesDown() || branch.hasTrainableParameters();
    }

    /**
     * dL/dy stays whole until every branch has taken its channels, and every branch's result waits
     * for the sum: both are reserved while the branches are planned. Each branch reads its own
     * slice buffer; the sum goes into a buffer of this block's own.
     */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        branchGradOutputs = new Tensor[branches.size()];
        branchResults = new Tensor[branches.size()];
        List<Tensor> results = new ArrayList<>();
        plan.reserve(gradOutput);
        for (int i = 0; i < branches.size(); i++) {
            Layer branch = branches.get(i);
            if (!needsBackward(branch)) {
                continue;
            }
            Tensor slice = plan.buffer(branch.outputShape(), gradOutput);
            branchGradOutputs[i] = slice;
            plan.reserve(slice);
            Tensor result = branch.planBackward(plan, slice);
            plan.release(slice);
            if (result != null) {
                plan.reserve(result);
                results.add(result);
            }
        }
        Tensor gradient = null;
        if (propagatesDown()) {
            gradient = results.size() == 1 ? results.get(0) : plan.buffer(inputShape(), gradOutput);
            useGradInput(gradient);
        }
        for (Tensor result : results) {
            plan.release(result);
        }
        plan.release(gradOutput);
        return gradient;
    }

    /**
     * Every branch runs its backward before the sum is written: the sum's buffer may be one a
     * later branch uses inside (the branches' results, reserved at planning, are not).
     */
    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Device device = device();
        int count = 0;
        for (int i = 0; i < branches.size(); i++) {
            Tensor slice = branchGradOutputs[i];
            if (slice == null) {
                continue;
            }
            device.elementwise().copyChannels(gradOutput, channelStarts.get(i), slice, 0, slice.shape().dim(1));
            Tensor result = branches.get(i).backward(slice);
            if (result != null && propagatesDown()) {
                branchResults[count++] = result;
            }
        }
        if (!propagatesDown()) {
            return null;
        }
        Tensor sum = gradInput();
        if (count == 0) {
            device.elementwise().fill(sum, 0f);
            return sum;
        }
        if (count == 1) {
            return sum;
        }
        device.elementwise().add(branchResults[0], branchResults[1], sum);
        for (int i = 2; i < count; i++) {
            device.elementwise().add(sum, branchResults[i], sum);
        }
        return sum;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> parameters = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            for (Parameter parameter : branches.get(i).parameters()) {
                parameters.add(parameter.withPrefix(names.get(i)));
            }
        }
        return parameters;
    }

    @Override
    public List<NamedTensor> buffers() {
        List<NamedTensor> buffers = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            for (NamedTensor buffer : branches.get(i).buffers()) {
                buffers.add(buffer.withPrefix(names.get(i)));
            }
        }
        return buffers;
    }

    @Override
    public List<Counter> counters() {
        List<Counter> counters = new ArrayList<>();
        for (int i = 0; i < branches.size(); i++) {
            for (Counter counter : branches.get(i).counters()) {
                counters.add(counter.withPrefix(names.get(i)));
            }
        }
        return counters;
    }

    /** Named branches by their names; an unnamed Sequential's children as they are named. */
    @Override
    public Map<String, Layer> children() {
        Map<String, Layer> children = new LinkedHashMap<>();
        for (int i = 0; i < branches.size(); i++) {
            if (names.get(i).isEmpty()) {
                children.putAll(branches.get(i).children());
            } else {
                children.put(names.get(i), branches.get(i));
            }
        }
        return children;
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        for (Layer branch : branches) {
            branch.resetParameters(random);
        }
    }

    @Override
    public void close() {
        super.close();
        for (Layer branch : branches) {
            branch.close();
        }
    }
}
