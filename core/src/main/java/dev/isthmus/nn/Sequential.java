package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Layers applied one after another. Each child has a name that prefixes its parameters, as in
 * PyTorch: children added without a name are numbered by position ({@code features.0.weight}),
 * named ones keep their name ({@code conv1.weight}).
 */
public final class Sequential extends Layer {
    private final List<String> names = new ArrayList<>();
    private final List<Layer> layers = new ArrayList<>();

    /**
     * A container of {@code layers}, named by position ("0", "1", ...).
     *
     * @param layers the layers, in forward order
     */
    public Sequential(Layer... layers) {
        for (Layer layer : layers) {
            add(layer);
        }
    }

    /**
     * Appends a layer named by its position.
     *
     * @param layer the layer
     * @return this container, for chaining
     */
    public Sequential add(Layer layer) {
        return add(Integer.toString(layers.size()), layer);
    }

    /**
     * Appends a named layer.
     *
     * @param name the layer's name (its key in the state_dict)
     * @param layer the layer
     * @return this container, for chaining
     */
    public Sequential add(String name, Layer layer) {
        if (inputShape() != null) {
            throw new IllegalStateException("Sequential: cannot add layers after setup");
        }
        if (layer == null || name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("Sequential: a child needs a layer and a name without dots, got '"
                    + name + "'");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("Sequential: two children named '" + name + "'");
        }
        names.add(name);
        layers.add(layer);
        return this;
    }

    /** {@return the layers, in forward order} */
    public List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    /** Children by name, in order. */
    @Override
    public Map<String, Layer> children() {
        Map<String, Layer> children = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            children.put(names.get(i), layers.get(i));
        }
        return children;
    }

    @Override
    public String describe() {
        return "Sequential(" + layers.size() + " layers)";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Sequential: no layers");
        }
        Shape shape = input;
        for (int i = 0; i < layers.size(); i++) {
            try {
                shape = layers.get(i).outputShapeOf(shape);
            } catch (IllegalArgumentException mismatch) {
                throw new IllegalArgumentException("layer " + names.get(i) + ": " + mismatch.getMessage(), mismatch);
            }
        }
        return shape;
    }

    /**
     * For a container that takes this sequence's output in low precision (a residual block's sum
     * does): a run of low-precision layers at the end may then hand its output on unconverted.
     */
    void allowLowPrecisionOutput(boolean allowed) {
        this.lowOutputAllowed = allowed;
    }

    private boolean lowOutputAllowed;

    /**
     * A sequence converts (takes and gives either type) when its first and last layers do, and
     * keeps the type when all its layers do; a container may then pass it low-precision input
     * or ask for low-precision output.
     */
    @Override
    protected LowPrecisionCarry lowPrecisionCarry() {
        if (layers.isEmpty()) {
            return LowPrecisionCarry.NONE;
        }
        boolean allSame = true;
        for (Layer layer : layers) {
            allSame &= layer.lowPrecisionCarry() == LowPrecisionCarry.SAME_TYPE;
        }
        if (allSame) {
            return LowPrecisionCarry.SAME_TYPE;
        }
        return layers.get(0).lowPrecisionCarry() == LowPrecisionCarry.CONVERTS
                && layers.get(layers.size() - 1).lowPrecisionCarry() == LowPrecisionCarry.CONVERTS
                ? LowPrecisionCarry.CONVERTS : LowPrecisionCarry.NONE;
    }

    /**
     * Under a mixed-precision policy, on a device that carries low-precision activations, finds
     * the runs converting layer → (layers keeping the type)* → converting layer (or → the end,
     * where the container takes low precision) and keeps each in the low precision: the first
     * writes its output in it, the layers between take and give it, the last reads it as is;
     * their gradients flow back the same way. Every other hand-off stays F32. The sequence's
     * input is of the type its container set (low only when the first layer converts or keeps the type).
     */
    private void chooseActivationTypes(Device device) {
        int n = layers.size();
        DType low = precision().operandType();
        boolean carries = precision().isMixed() && device.carriesLowPrecision(low);
        boolean lowEnd = carries && (lowOutputAllowed || requestedOutputType() == low);
        DType current = inputType();
        for (int i = 0; i < n; i++) {
            Layer layer = layers.get(i);
            LowPrecisionCarry carry = layer.lowPrecisionCarry();
            DType out = DType.F32;
            if (carry == LowPrecisionCarry.SAME_TYPE) {
                out = current;
            } else if (carry == LowPrecisionCarry.CONVERTS && carries) {
                int end = i + 1;
                while (end < n && layers.get(end).lowPrecisionCarry() == LowPrecisionCarry.SAME_TYPE) {
                    end++;
                }
                boolean intoConverting = end < n && layers.get(end).lowPrecisionCarry() == LowPrecisionCarry.CONVERTS;
                out = intoConverting || (end == n && lowEnd) ? low : DType.F32;
            }
            layer.carryTypes(carry == LowPrecisionCarry.NONE ? DType.F32 : current, out);
            current = out;
        }
        declareOutputType(current);
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        chooseActivationTypes(device);
        Shape shape = input;
        // A layer computes dL/dx only when a layer before it has something to train (or the caller
        // wants dL/dx): below the lowest trainable layer, backward stops.
        boolean trainableBefore = propagatesDown();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            layer.setPropagateDown(trainableBefore);
            shape = layer.setup(device, shape);
            trainableBefore = trainableBefore || layer.hasTrainableParameters();
        }
    }

    @Override
    protected void releaseBuffers() {
        // Children keep their buffers until they are set up again or closed.
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        Tensor activation = x;
        for (int i = 0; i < layers.size(); i++) {
            activation = layers.get(i).forward(activation, training);
        }
        return activation;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        Tensor gradient = gradOutput;
        for (int i = layers.size() - 1; i >= 0; i--) {
            gradient = layers.get(i).backward(gradient);
            if (gradient == null) {
                break;
            }
        }
        return gradient;
    }

    /** Each layer reads what the one after it returns: planned from the last to the first. */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        Tensor gradient = gradOutput;
        for (int i = layers.size() - 1; i >= 0; i--) {
            gradient = layers.get(i).planBackward(plan, gradient);
            if (gradient == null) {
                return null;
            }
        }
        return gradient;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> parameters = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Parameter parameter : layers.get(i).parameters()) {
                parameters.add(parameter.withPrefix(names.get(i)));
            }
        }
        return parameters;
    }

    @Override
    public List<NamedTensor> buffers() {
        List<NamedTensor> buffers = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            for (NamedTensor buffer : layers.get(i).buffers()) {
                buffers.add(buffer.withPrefix(names.get(i)));
            }
        }
        return buffers;
    }

    @Override
    public List<Counter> counters() {
        List<Counter> counters = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            for (Counter counter : layers.get(i).counters()) {
                counters.add(counter.withPrefix(names.get(i)));
            }
        }
        return counters;
    }

    @Override
    public void resetParameters(SplittableRandom random) {
        for (Layer layer : layers) {
            layer.resetParameters(random);
        }
    }

    @Override
    public void close() {
        super.close();
        for (Layer layer : layers) {
            layer.close();
        }
    }
}
