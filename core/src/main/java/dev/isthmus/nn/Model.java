package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.AvailableMemory;
import dev.isthmus.device.MemoryPlan;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A network ready to train: a root layer, the shape of one sample, and the device it was built on.
 *
 * <p>{@link #build} plans the network's memory once (Caffe's Net, llm.c's single allocation): the
 * layers are set up inside a {@link MemoryPlan}, so that what they and their device plans ask for
 * is recorded rather than allocated; then four blocks are allocated: all parameters back to back
 * in {@link #parameters()} order, all their gradients likewise (what an all-reduce bucket or a
 * fused optimizer step works on), the running statistics, and the per-batch memory (outputs,
 * workspaces). Every input-gradient buffer is assigned at build too, by a {@link GradientPlan},
 * whose one block is allocated at the first backward (so an inference-only model never holds it).
 * A batch of another size (the last, partial batch of an epoch) plans the per-batch memory again;
 * parameters stay where they are. A model built with {@link #inferenceOnly()} binds its per-batch
 * buffers as windows of one block shared by lifetime instead, and gets no gradient memory.
 */
public final class Model implements AutoCloseable {
    private final String name;
    private final Layer root;
    private final Shape sampleShape;
    private final List<LayerHook> hooks = new ArrayList<>();
    private final List<Tensor> stateBlocks = new ArrayList<>();
    private Device device;
    private int batchSize;
    private Tensor input;
    private GradientPlan gradients;
    private Tensor parameterBlock;
    private Tensor gradientBlock;
    private MemoryEstimate memoryEstimate;
    private Tensor activationBlock;
    private boolean inputGradient;
    private Tensor lastInputGradient;
    private boolean inferenceOnly;
    private long inferencePeakLiveBytes;

    private Precision precision = Precision.FP32;

    /**
     * A network named {@code name} whose layers are {@code root}, for samples of {@code sampleShape}; {@link #build} sets it up.
     *
     * @param name the name of a leaf layer
     * @param root the root layer, usually a {@link Sequential}
     * @param sampleShape the shape of one sample, [C, H, W]
     */
    public Model(String name, Layer root, Shape sampleShape) {
        if (name == null || root == null || sampleShape == null) {
            throw new IllegalArgumentException("Model: name, root layer and sample shape are required");
        }
        this.name = name;
        this.root = root;
        this.sampleShape = sampleShape;
    }

    /** {@return the model's name} */
    public String name() {
        return name;
    }

    /** {@return the root layer} */
    public Layer root() {
        return root;
    }

    /**
     * One sample's shape, e.g. [1, 28, 28].
     *
     * @return one sample's shape, e.g
     */
    public Shape sampleShape() {
        return sampleShape;
    }

    /** {@return the device the model is built on, or null before {@link #build}} */
    public Device device() {
        return device;
    }

    /**
     * The shape of a batch of {@code batch} samples: [batch, sample dims...].
     *
     * @param batch the samples per batch
     * @return the shape of a batch of {@code batch} samples: [batch, sample dims...]
     */
    public Shape batchShape(int batch) {
        int[] sample = sampleShape.dims();
        int[] dims = new int[sample.length + 1];
        dims[0] = batch;
        System.arraycopy(sample, 0, dims, 1, sample.length);
        return Shape.of(dims);
    }

    /**
     * Sets the precision policy (FP32 by default) the model will be built with; call it before
     * {@link #build}. The parameters stay F32 whatever it is, so checkpoints do not change.
     *
     * @param precision the policy (FP32, BF16 or FP16)
     * @return this model
     */
    public Model precision(Precision precision) {
        if (precision == null) {
            throw new IllegalArgumentException(name + ": precision must not be null");
        }
        if (device != null && precision != this.precision) {
            throw new IllegalStateException(name + " was built in " + this.precision.label()
                    + "; set the precision before build");
        }
        this.precision = precision;
        return this;
    }

    /**
     * {@return the precision policy this model is (or will be) built with}
     */
    public Precision precision() {
        return precision;
    }

    /**
     * Plans the model for inference only (PyTorch's {@code torch.inference_mode}); call it before
     * {@link #build}. Its layers then share their per-batch memory by lifetime ({@code InferencePlan}):
     * each output lives until the next layer has read it, everything else a layer allocates per
     * batch (saved inputs, masks, pooling indices, workspaces) only while that layer runs, so a
     * forward holds about two activations at a time (three inside a residual block) instead of
     * all of them; the parameter gradients and the input-gradient buffers get no memory. Such a
     * model runs eval-mode forwards only: {@link #backward} and training-mode forwards are refused.
     *
     * @return this model
     * @throws IllegalStateException after build
     */
    public Model inferenceOnly() {
        if (device != null && !inferenceOnly) {
            throw new IllegalStateException(name + ": ask for inference only before build, which plans the memory");
        }
        if (inputGradient) {
            throw new IllegalStateException(name + ": input gradients need backward, which an inference-only model refuses");
        }
        this.inferenceOnly = true;
        return this;
    }

    /**
     * Whether the model was planned for inference only ({@link #inferenceOnly()}).
     *
     * @return whether the model is inference-only
     */
    public boolean isInferenceOnly() {
        return inferenceOnly;
    }

    /**
     * Sets the network up on {@code device} for batches of {@code batch} and draws initial parameters from {@code seed}.
     *
     * @param device the device
     * @param batch the samples per batch
     * @param seed the seed the initial parameters are drawn from
     * @return this model, built
     * @throws UnsupportedOperationException when the device cannot compute in the model's precision, saying why
     */
    public Model build(Device device, int batch, long seed) {
        if (batch <= 0) {
            throw new IllegalArgumentException(name + ": batch size must be > 0, got " + batch);
        }
        if (device == null) {
            throw new IllegalArgumentException(name + ": build needs a device");
        }
        if (this.device != null && this.device != device) {
            throw new IllegalStateException(name + " was built on " + this.device.name() + "; it cannot be built again on "
                    + device.name());
        }
        root.setPropagateDown(inputGradient);
        if (this.device == null) {
            device.requireCompute(name, precision.operandType());
            root.setPrecision(precision);
            root.setInferenceOnly(inferenceOnly);
            Shape shape = batchShape(batch);
            try (MemoryPlan plan = MemoryPlan.record(device)) {
                root.setup(device, shape);
                InferencePlan shared = planPerBatch(device, shape, plan);
                List<Tensor> values = new ArrayList<>();
                List<Tensor> grads = new ArrayList<>();
                for (Parameter parameter : root.parameters()) {
                    values.add(parameter.value());
                    grads.add(parameter.grad());
                }
                if (inferenceOnly) {
                    // No backward: parameter gradients never get memory (using one throws).
                    plan.forgo(grads);
                    grads = List.of();
                }
                admit(device, estimate(plan, batch, values, grads, shared));
                parameterBlock = plan.bind(values);
                gradientBlock = plan.bind(grads);
                keep(plan.bindRemaining(true));
                activationBlock = inferenceOnly ? shared.bind(plan) : plan.bindRemaining(false);
                // Nothing should be left per batch; were anything, it gets memory of its own rather than none.
                keep(plan.bindRemaining(false));
            }
            this.device = device;
        } else {
            replan(batchShape(batch));
        }
        this.batchSize = batch;
        root.resetParameters(new SplittableRandom(seed));
        return this;
    }

    /**
     * Plans the input's layout copy and the inference sharing of what the layers asked for, then
     * assigns the input-gradient buffers (memory on the first backward). The sharing is planned
     * before the gradients, so that what gradient planning asks for never counts as inference's.
     */
    private InferencePlan planPerBatch(Device device, Shape shape, MemoryPlan plan) {
        // Batches arrive row-major; a device that computes on another layout gets them copied here.
        input = device.activationLayout(shape) != Layout.ROW_MAJOR ? device.allocateActivation(shape) : null;
        InferencePlan shared = InferencePlan.of(root, plan.perBatchRequests(), input);
        gradients = new GradientPlan(device);
        if (!inferenceOnly) {
            try (Tensor lossGradient = gradients.outside(root.outputShape())) {
                root.planBackward(gradients, lossGradient);
            }
        }
        return shared;
    }

    /** Sets the layers up for another batch shape in a new per-batch block, then frees the old one. */
    private void replan(Shape shape) {
        if (shape.equals(root.inputShape())) {
            return;
        }
        GradientPlan oldGradients = gradients;
        Tensor oldInput = input;
        Tensor oldActivations = activationBlock;
        try (MemoryPlan plan = MemoryPlan.record(device)) {
            root.setup(device, shape);
            InferencePlan shared = planPerBatch(device, shape, plan);
            MemoryEstimate whole = estimate(plan, shape.dim(0), List.of(), List.of(), shared);
            // The parameters exist already; only the new batch's memory must still fit.
            MemoryEstimate perBatch = new MemoryEstimate(shape.dim(0), 0, 0, 0, whole.activations(), whole.inputGradients(), 0,
                    whole.inferenceActivations());
            admit(device, perBatch);
            memoryEstimate = new MemoryEstimate(shape.dim(0), memoryEstimate.parameters(), memoryEstimate.gradients(),
                    memoryEstimate.buffers(), whole.activations(), whole.inputGradients(), memoryEstimate.optimizerState(),
                    whole.inferenceActivations());
            keep(plan.bindRemaining(true));
            activationBlock = inferenceOnly ? shared.bind(plan) : plan.bindRemaining(false);
            keep(plan.bindRemaining(false));
        }
        closeAll(oldGradients, oldInput, oldActivations);
    }

    /** Adds up the plan before anything is bound: what {@link MemoryEstimate} describes. */
    private MemoryEstimate estimate(MemoryPlan plan, int batch, List<Tensor> values, List<Tensor> grads, InferencePlan shared) {
        long parameters = 0;
        long gradientBytes = 0;
        for (Tensor value : values) {
            parameters += value.byteSize();
        }
        for (Tensor grad : grads) {
            gradientBytes += grad.byteSize();
        }
        List<Tensor> both = new ArrayList<>(values);
        both.addAll(grads);
        inferencePeakLiveBytes = shared.peakLiveBytes();
        if (inferenceOnly) {
            // What this model holds: no gradients, no optimizer, the per-batch memory shared.
            return new MemoryEstimate(batch, parameters, 0, plan.unboundBytes(true, both), shared.bytes(), 0, 0, shared.bytes());
        }
        return new MemoryEstimate(batch, parameters, gradientBytes, plan.unboundBytes(true, both),
                plan.unboundBytes(false, List.of()), gradients.bytes(), 2 * parameters, shared.bytes());
    }

    /** Refuses, before allocating, what the device cannot hold; remembers the estimate otherwise. */
    private void admit(Device device, MemoryEstimate estimate) {
        if (memoryEstimate == null) {
            memoryEstimate = estimate;
        }
        AvailableMemory available = device.memoryAvailable();
        if (estimate.total() > available.bytes()) {
            if (this.device == null) {
                memoryEstimate = null;
            }
            throw new InsufficientMemoryException(name, device.name(), estimate, available);
        }
    }

    /**
     * What the model needs at its current batch size, added up when it was built (or set up for
     * another batch size) before anything was allocated.
     *
     * @return the estimate
     * @throws IllegalStateException before build
     */
    public MemoryEstimate memoryEstimate() {
        requireBuilt();
        return memoryEstimate;
    }

    /**
     * The most per-batch bytes an inference forward has alive at one step at the current batch
     * size: the least any sharing could hold, against which {@link MemoryEstimate#inferenceActivations()}
     * (the shared block actually planned) can be judged.
     *
     * @return the bytes
     * @throws IllegalStateException before build
     */
    public long inferencePeakLiveBytes() {
        requireBuilt();
        return inferencePeakLiveBytes;
    }

    private void keep(Tensor stateBlock) {
        if (stateBlock != null) {
            stateBlocks.add(stateBlock);
        }
    }

    private static void closeAll(AutoCloseable... resources) {
        for (AutoCloseable resource : resources) {
            if (resource != null) {
                try {
                    resource.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private void requireBuilt() {
        if (device == null) {
            throw new IllegalStateException(name + ": build the model on a device first");
        }
    }

    /**
     * The logits for a batch of any size (the network is set up again when the size changes). An
     * input in another layout than the device computes in is copied into one that it does.
     *
     * @param x the input batch, on the model's device
     * @param training true in training mode (keep what backward needs), false in eval mode
     * @return the logits for a batch of any size (the network is set up again when the size changes)
     */
    public Tensor forward(Tensor x, boolean training) {
        requireBuilt();
        if (x == null) {
            throw new IllegalArgumentException(name + ": input is null");
        }
        x.ensureOpen();
        if (training && inferenceOnly) {
            throw new IllegalStateException(name + " was built for inference only (Model.inferenceOnly): its layers share"
                    + " activation memory, so it runs eval-mode forwards only; build it without inferenceOnly to train");
        }
        int batch = x.shape().rank() > 0 ? x.shape().dim(0) : -1;
        if (batch != batchSize && x.shape().equals(batchShape(Math.max(batch, 0)))) {
            replan(x.shape());
            batchSize = batch;
        }
        if (x.device() == device && x.shape().equals(root.inputShape()) && x.layout() != device.activationLayout(x.shape())) {
            if (input == null || !input.shape().equals(x.shape())) {
                // Not planned: a channels-last batch for a device that computes row-major.
                if (input != null) {
                    input.close();
                }
                input = device.allocateActivation(x.shape());
            }
            device.copy(x, input);
            return root.forward(input, training);
        }
        return root.forward(x, training);
    }

    /**
     * Back-propagates dL/dlogits through every layer, accumulating parameter gradients, after a
     * forward in either mode (after an eval forward: the eval-mode function's gradient, PyTorch's).
     *
     * @param gradLogits dL/dlogits, [N, C]
     * @return dL/dinput when {@link #computeInputGradient} asked for it (valid until the next
     *         backward, in the device's activation layout), else null
     */
    public Tensor backward(Tensor gradLogits) {
        requireBuilt();
        if (inferenceOnly) {
            throw new IllegalStateException(name + " was built for inference only (Model.inferenceOnly): its layers share"
                    + " activation memory and keep nothing backward needs; build it without inferenceOnly to take gradients");
        }
        // The input-gradient buffers were assigned at build; their memory comes with the first backward.
        gradients.allocate();
        lastInputGradient = root.backward(gradLogits);
        return lastInputGradient;
    }

    /**
     * Whether backward computes dL/dinput too (saliency maps, adversarial inputs); off by default,
     * since training never needs it. Set it before {@link #build}, which plans the buffers.
     *
     * @param compute the compute
     * @return the compute input gradient
     */
    public Model computeInputGradient(boolean compute) {
        if (device != null) {
            throw new IllegalStateException(name + ": ask for input gradients before build, which plans their buffers");
        }
        if (compute && inferenceOnly) {
            throw new IllegalStateException(name + ": input gradients need backward, which an inference-only model refuses");
        }
        this.inputGradient = compute;
        return this;
    }

    /**
     * Freezes every layer whose qualified name ({@link #leaves()}) is one of {@code prefixes} or
     * lies under one ({@code features} covers {@code features.0} and {@code features.3}): its
     * parameters get no gradient and belong in no optimizer ({@link #trainableParameters()}), and
     * backward stops below the lowest layer that still trains. Call it before {@link #build}, which
     * plans how far backward goes.
     *
     * @param prefixes the prefixes
     * @return the names of the parameters frozen, in {@link #parameters()} order
     * @throws IllegalArgumentException when a prefix names no layer with parameters, naming it and the layers there are
     */
    public List<String> freeze(java.util.Collection<String> prefixes) {
        if (device != null) {
            throw new IllegalStateException(name + ": freeze layers before build, which plans how far backward goes");
        }
        if (prefixes == null) {
            throw new IllegalArgumentException(name + ": freeze needs a list of layer names");
        }
        Map<String, Layer> leaves = leaves();
        List<Layer> chosen = new ArrayList<>();
        for (String prefix : prefixes) {
            boolean matched = false;
            for (Map.Entry<String, Layer> leaf : leaves.entrySet()) {
                String leafName = leaf.getKey();
                if ((leafName.equals(prefix) || leafName.startsWith(prefix + ".")) && !leaf.getValue().parameters().isEmpty()) {
                    chosen.add(leaf.getValue());
                    matched = true;
                }
            }
            if (!matched) {
                List<String> withParameters = new ArrayList<>();
                for (Map.Entry<String, Layer> leaf : leaves.entrySet()) {
                    if (!leaf.getValue().parameters().isEmpty()) {
                        withParameters.add(leaf.getKey());
                    }
                }
                throw new IllegalArgumentException(name + ": cannot freeze '" + prefix + "': no layer with parameters is"
                        + " named so or lies under it (whole layers freeze; the layers are " + withParameters + ")");
            }
        }
        for (Layer layer : chosen) {
            layer.setFrozen(true);
        }
        List<String> frozen = new ArrayList<>(frozenParameterNames());
        return frozen;
    }

    /** Names of the parameters of frozen layers (a leaf's parameter is named after the leaf). */
    private java.util.Set<String> frozenParameterNames() {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (Map.Entry<String, Layer> leaf : leaves().entrySet()) {
            if (leaf.getValue().isFrozen()) {
                for (Parameter own : leaf.getValue().parameters()) {
                    names.add(leaf.getKey() + "." + own.name());
                }
            }
        }
        return names;
    }

    /**
     * The parameters that are not frozen, in {@link #parameters()} order: what an optimizer should get.
     *
     * @return the trainable parameters
     */
    public List<Parameter> trainableParameters() {
        java.util.Set<String> frozen = frozenParameterNames();
        List<Parameter> trainable = new ArrayList<>();
        for (Parameter parameter : parameters()) {
            if (!frozen.contains(parameter.name())) {
                trainable.add(parameter);
            }
        }
        return trainable;
    }

    /** {@return every parameter, named as in PyTorch's state_dict, in the order the optimizer sees them} */
    public List<Parameter> parameters() {
        return root.parameters();
    }

    /** {@return every buffer ({@code running_mean} ...), named as in PyTorch's state_dict} */
    public List<NamedTensor> buffers() {
        return root.buffers();
    }

    /**
     * Every parameter, back to back in {@link #parameters()} order, as one flat tensor (null before build).
     *
     * @return every parameter, back to back in {@link #parameters()} order, as one flat tensor (null before build)
     */
    public Tensor parameterBlock() {
        return parameterBlock;
    }

    /**
     * Every parameter gradient, back to back in {@link #parameters()} order, as one flat tensor (null before build).
     *
     * @return every parameter gradient, back to back in {@link #parameters()} order, as one flat tensor (null before build)
     */
    public Tensor gradientBlock() {
        return gradientBlock;
    }

    /**
     * Calls {@code hook} around every layer's forward and backward, after the hooks added before it.
     *
     * @param hook the hook
     */
    public void addHook(LayerHook hook) {
        if (hook == null) {
            throw new IllegalArgumentException(name + ": hook is null");
        }
        hooks.add(hook);
        root.setHook(hooks.size() == 1 ? hook : new HookChain(List.copyOf(hooks)));
    }

    /**
     * Removes a hook added by {@link #addHook}.
     *
     * @param hook the hook
     */
    public void removeHook(LayerHook hook) {
        hooks.remove(hook);
        root.setHook(hooks.isEmpty() ? null : hooks.size() == 1 ? hooks.get(0) : new HookChain(List.copyOf(hooks)));
    }

    /** Several hooks as one: in the order added before a call, in reverse after it (as nested wrappers). */
    private record HookChain(List<LayerHook> hooks) implements LayerHook {
        @Override
        public void beforeForward(Layer layer) {
            for (int i = 0; i < hooks.size(); i++) {
                hooks.get(i).beforeForward(layer);
            }
        }

        @Override
        public void afterForward(Layer layer) {
            for (int i = hooks.size() - 1; i >= 0; i--) {
                hooks.get(i).afterForward(layer);
            }
        }

        @Override
        public void beforeBackward(Layer layer) {
            for (int i = 0; i < hooks.size(); i++) {
                hooks.get(i).beforeBackward(layer);
            }
        }

        @Override
        public void afterBackward(Layer layer) {
            for (int i = hooks.size() - 1; i >= 0; i--) {
                hooks.get(i).afterBackward(layer);
            }
        }
    }

    /** {@return the number of trainable elements} */
    public long parameterCount() {
        long count = 0;
        for (Parameter parameter : parameters()) {
            count += parameter.value().elementCount();
        }
        return count;
    }

    /**
     * Every leaf layer with its qualified name, in forward order.
     *
     * @return every leaf layer with its qualified name, in forward order
     */
    public Map<String, Layer> leaves() {
        Map<String, Layer> leaves = new LinkedHashMap<>();
        collect("", root, leaves);
        return leaves;
    }

    private static void collect(String prefix, Layer layer, Map<String, Layer> into) {
        Map<String, Layer> children = layer.children();
        if (children.isEmpty()) {
            into.put(prefix.isEmpty() ? layer.describe() : prefix, layer);
            return;
        }
        for (Map.Entry<String, Layer> child : children.entrySet()) {
            collect(prefix.isEmpty() ? child.getKey() : prefix + "." + child.getKey(), child.getValue(), into);
        }
    }

    /**
     * One line of {@link #summary()}: a leaf layer, its output shape and its own parameter count.
     *
     * @param name the name of a leaf layer
     * @param layer what the layer is
     * @param outputShape its output shape
     * @param parameters its own parameter count
     */
    public record SummaryRow(String name, String layer, Shape outputShape, long parameters) {
    }

    /**
     * The layer table of the built model.
     *
     * @return the layer table of the built model
     */
    public List<SummaryRow> summary() {
        requireBuilt();
        List<SummaryRow> rows = new ArrayList<>();
        for (Map.Entry<String, Layer> leaf : leaves().entrySet()) {
            long count = 0;
            for (Parameter parameter : leaf.getValue().parameters()) {
                count += parameter.value().elementCount();
            }
            rows.add(new SummaryRow(leaf.getKey(), leaf.getValue().describe(), leaf.getValue().outputShape(), count));
        }
        return rows;
    }

    /**
     * The layers' counters by qualified name ({@code bn1.num_batches_tracked}, a dropout layer's
     * {@code rng_seed} and {@code rng_calls}): see {@link Layer#counters()}.
     *
     * @return the layers' counters by qualified name ({@code bn1.num_batches_tracked}, a dropout layer's {@code rng_seed} and {@code rng_calls}): see {@link Layer#counters()}
     */
    public Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (Counter counter : root.counters()) {
            counters.put(counter.name(), counter.value());
        }
        return counters;
    }

    /**
     * Restores the counters of {@link #counters()}; an unknown name is an error.
     *
     * @param values the counters' values, by name
     */
    public void restoreCounters(Map<String, Long> values) {
        Map<String, Counter> byName = new HashMap<>();
        for (Counter counter : root.counters()) {
            byName.put(counter.name(), counter);
        }
        for (String key : values.keySet()) {
            if (!byName.containsKey(key)) {
                throw new IllegalArgumentException(name + ": no counter named '" + key + "'");
            }
        }
        for (Map.Entry<String, Long> value : values.entrySet()) {
            byName.get(value.getKey()).restore(value.getValue());
        }
    }

    /**
     * Bytes of the input-gradient buffers the layers share (assigned at build).
     *
     * @return bytes of the input-gradient buffers the layers share (assigned at build)
     */
    public long gradientBytes() {
        return gradients == null ? 0 : gradients.bytes();
    }

    /** Frees the layers, then the blocks that hold their memory. */
    @Override
    public void close() {
        root.close();
        closeAll(gradients, input, parameterBlock, gradientBlock, activationBlock);
        for (Tensor block : stateBlocks) {
            block.close();
        }
        stateBlocks.clear();
    }

    @Override
    public String toString() {
        return name;
    }
}
