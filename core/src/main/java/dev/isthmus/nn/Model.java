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
 * A network ready to train: a root layer, the shape of one sample, and the device it was built on.
 * {@link #build} sets every layer up for a batch size and initialises the parameters from a seed;
 * {@link #forward} sets the layers up again when a batch of another size arrives (the last,
 * partial batch of an epoch), keeping the parameters.
 */
public final class Model implements AutoCloseable {
    private final String name;
    private final Layer root;
    private final Shape sampleShape;
    private Device device;
    private int batchSize;
    private Tensor input;
    private final GradientBuffers gradients = new GradientBuffers();

    public Model(String name, Layer root, Shape sampleShape) {
        if (name == null || root == null || sampleShape == null) {
            throw new IllegalArgumentException("Model: name, root layer and sample shape are required");
        }
        this.name = name;
        this.root = root;
        this.sampleShape = sampleShape;
    }

    public String name() {
        return name;
    }

    public Layer root() {
        return root;
    }

    /** One sample's shape, e.g. [1, 28, 28]. */
    public Shape sampleShape() {
        return sampleShape;
    }

    public Device device() {
        return device;
    }

    /** The shape of a batch of {@code batch} samples: [batch, sample dims...]. */
    public Shape batchShape(int batch) {
        int[] sample = sampleShape.dims();
        int[] dims = new int[sample.length + 1];
        dims[0] = batch;
        System.arraycopy(sample, 0, dims, 1, sample.length);
        return Shape.of(dims);
    }

    /** Sets the network up on {@code device} for batches of {@code batch} and draws initial parameters from {@code seed}. */
    public Model build(Device device, int batch, long seed) {
        if (batch <= 0) {
            throw new IllegalArgumentException(name + ": batch size must be > 0, got " + batch);
        }
        root.setPropagateDown(false);
        root.shareGradients(gradients);
        root.setup(device, batchShape(batch));
        this.device = device;
        this.batchSize = batch;
        root.resetParameters(new SplittableRandom(seed));
        return this;
    }

    private void requireBuilt() {
        if (device == null) {
            throw new IllegalStateException(name + ": build the model on a device first");
        }
    }

    /**
     * The logits for a batch of any size (the network is set up again when the size changes). An
     * input in another layout than the device computes in is copied into one that it does.
     */
    public Tensor forward(Tensor x, boolean training) {
        requireBuilt();
        if (x == null) {
            throw new IllegalArgumentException(name + ": input is null");
        }
        x.ensureOpen();
        int batch = x.shape().rank() > 0 ? x.shape().dim(0) : -1;
        if (batch != batchSize && x.shape().equals(batchShape(Math.max(batch, 0)))) {
            root.setup(device, x.shape());
            batchSize = batch;
        }
        if (x.device() == device && x.shape().equals(root.inputShape()) && x.layout() != device.activationLayout(x.shape())) {
            if (input == null || !input.shape().equals(x.shape())) {
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

    /** Back-propagates dL/dlogits through every layer, accumulating parameter gradients. */
    public void backward(Tensor gradLogits) {
        requireBuilt();
        root.backward(gradLogits);
    }

    public List<Parameter> parameters() {
        return root.parameters();
    }

    public List<NamedTensor> buffers() {
        return root.buffers();
    }

    public long parameterCount() {
        long count = 0;
        for (Parameter parameter : parameters()) {
            count += parameter.value().elementCount();
        }
        return count;
    }

    /** Every leaf layer with its qualified name, in forward order. */
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

    /** One line of {@link #summary()}: a leaf layer, its output shape and its own parameter count. */
    public record SummaryRow(String name, String layer, Shape outputShape, long parameters) {
    }

    /** The layer table of the built model. */
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
     * Counters that belong with the weights in a checkpoint: batch norm's
     * {@code <name>.num_batches_tracked} (PyTorch's state_dict has them), and each dropout layer's
     * generator position under {@code <name>.rng_seed} and {@code <name>.rng_calls}.
     */
    public Map<String, Long> counters() {
        Map<String, Long> counters = new LinkedHashMap<>();
        for (Map.Entry<String, Layer> leaf : leaves().entrySet()) {
            if (leaf.getValue() instanceof BatchNorm norm) {
                counters.put(leaf.getKey() + ".num_batches_tracked", norm.batchesTracked());
            } else if (leaf.getValue() instanceof Dropout dropout) {
                counters.put(leaf.getKey() + ".rng_seed", dropout.seed());
                counters.put(leaf.getKey() + ".rng_calls", dropout.calls());
            }
        }
        return counters;
    }

    /** Restores the counters of {@link #counters()}; an unknown name is an error. */
    public void restoreCounters(Map<String, Long> counters) {
        Map<String, Layer> leaves = leaves();
        for (Map.Entry<String, Long> counter : counters.entrySet()) {
            String key = counter.getKey();
            int dot = key.lastIndexOf('.');
            Layer layer = dot < 0 ? null : leaves.get(key.substring(0, dot));
            String field = dot < 0 ? key : key.substring(dot + 1);
            if (layer instanceof BatchNorm norm && field.equals("num_batches_tracked")) {
                norm.setBatchesTracked(counter.getValue());
            } else if (layer instanceof Dropout dropout && field.equals("rng_calls")) {
                Long seed = counters.get(key.substring(0, dot) + ".rng_seed");
                dropout.restoreGenerator(seed != null ? seed : dropout.seed(), counter.getValue());
            } else if (!(layer instanceof Dropout && field.equals("rng_seed"))) {
                throw new IllegalArgumentException(name + ": no counter named '" + key + "'");
            }
        }
    }

    /** Bytes of the input-gradient buffers the layers share (made on the first backward). */
    public long gradientBytes() {
        return gradients.bytes();
    }

    @Override
    public void close() {
        root.close();
        gradients.close();
        if (input != null) {
            input.close();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
