package dev.isthmus.onnx;

import com.google.protobuf.UnsafeByteOperations;
import dev.isthmus.nn.Layer;
import dev.isthmus.onnx.proto.Onnx.AttributeProto;
import dev.isthmus.onnx.proto.Onnx.GraphProto;
import dev.isthmus.onnx.proto.Onnx.NodeProto;
import dev.isthmus.onnx.proto.Onnx.TensorProto;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The graph being written, as the exporters see it: the path of the layer being exported, nodes
 * named after it, initializers named as the model's state_dict names them
 * ({@code layer1.0.conv1.weight}), and the recursion into child layers. Every value and node
 * name is unique; a layer without an exporter is an error naming its path.
 */
public final class OnnxGraph {
    private final GraphProto.Builder graph;
    private final Deque<String> paths = new ArrayDeque<>();
    /** What each layer on the path is ("Conv2d(3, 16, kernel=3x3)"), the doc_string of the nodes it writes. */
    private final Deque<String> layers = new ArrayDeque<>();
    private final Set<String> names = new HashSet<>();
    private final Set<String> scalars = new HashSet<>();

    OnnxGraph(GraphProto.Builder graph, String input) {
        this.graph = graph;
        names.add(input);
        paths.push("");
        layers.push("");
    }

    /**
     * The dotted path of the layer being exported ({@code layer1.0.conv1}; "" for the model's root).
     *
     * @return the path
     */
    public String path() {
        return paths.peek();
    }

    /**
     * Exports {@code child} of the current layer under {@code name} (its parameters are then named
     * {@code path.name.weight}; an empty name adds nothing to the path, as a residual block's
     * main branch).
     *
     * @param child the child layer
     * @param name the child's name in its parent (empty: none)
     * @param input the name of the value the child reads
     * @return the name of the child's output value
     * @throws UnsupportedOperationException when no exporter is registered for the child's class
     * @throws IllegalStateException when the child is not set up
     */
    public String export(Layer child, String name, String input) {
        String path = name.isEmpty() ? path() : path().isEmpty() ? name : path() + "." + name;
        LayerExporter<Layer> exporter = LayerExporters.find(child);
        if (exporter == null) {
            throw new UnsupportedOperationException("ONNX export: no exporter for " + child.describe() + " at '"
                    + (path.isEmpty() ? "(the model itself)" : path) + "' (" + child.getClass().getName()
                    + "); register one with LayerExporters.register");
        }
        if (child.inputShape() == null) {
            throw new IllegalStateException("ONNX export: " + child.describe() + " at '" + path
                    + "' is not set up (build the model first)");
        }
        paths.push(path);
        layers.push(child.describe());
        try {
            return exporter.export(child, input, this);
        } finally {
            paths.pop();
            layers.pop();
        }
    }

    /**
     * Adds a node computing {@code opType} of {@code inputs}, named after the current layer
     * ({@code suffix} tells the nodes of a layer that writes several apart: "layer1.0/Add").
     *
     * @param opType the ONNX operator ("Conv", "Relu", ...)
     * @param suffix what the node’s output name ends with
     * @param inputs the names of the node’s inputs
     * @param attributes the node’s attributes
     * @return the name of its (single) output
     */
    public String node(String opType, String suffix, List<String> inputs, AttributeProto... attributes) {
        String base = path().isEmpty() ? (suffix == null ? opType : suffix)
                : suffix == null ? path() : path() + "/" + suffix;
        String output = unique(base);
        graph.addNode(NodeProto.newBuilder().setOpType(opType).setName(output).addAllInput(inputs).addOutput(output)
                .addAllAttribute(List.of(attributes)).setDocString(layers.peek()));
        return output;
    }

    /**
     * As {@link #node(String, String, List, AttributeProto...)} for a layer that writes one node.
     *
     * @param opType the ONNX operator ("Conv", "Relu", ...)
     * @param inputs the names of the node’s inputs
     * @param attributes the node’s attributes
     * @return the node
     */
    public String node(String opType, List<String> inputs, AttributeProto... attributes) {
        return node(opType, null, inputs, attributes);
    }

    /**
     * Adds {@code tensor}'s values (float32, row-major) as the initializer {@code path.name}, the
     * name PyTorch's state_dict gives it.
     *
     * @param name the parameter's name in its layer ("weight")
     * @param tensor the tensor whose values are written
     * @return the initializer's full name
     */
    public String parameter(String name, Tensor tensor) {
        return parameter(name, tensor.shape(), tensor.toFloatArray());
    }

    /**
     * Adds {@code values} of {@code shape} as the initializer {@code path.name}.
     *
     * @param name the parameter's name in its layer ("weight")
     * @param shape the shape
     * @param values the values, row-major
     * @return the initializer's full name
     */
    public String parameter(String name, Shape shape, float[] values) {
        String full = path().isEmpty() ? name : path() + "." + name;
        if (!names.add(full)) {
            throw new IllegalStateException("ONNX export: two values named '" + full + "'");
        }
        graph.addInitializer(floats(full, shape.dims(), values));
        return full;
    }

    /**
     * A float32 scalar constant, shared by every node that uses the same value.
     *
     * @param value the values
     * @return the scalar
     */
    public String scalar(float value) {
        String name = "scalar_" + Float.toString(value);
        if (scalars.add(name)) {
            if (!names.add(name)) {
                throw new IllegalStateException("ONNX export: two values named '" + name + "'");
            }
            graph.addInitializer(floats(name, new int[0], new float[] {value}));
        }
        return name;
    }

    private String unique(String base) {
        String name = base;
        for (int n = 1; !names.add(name); n++) {
            name = base + "_" + n;
        }
        return name;
    }

    /** The last node that writes {@code value}, or -1; for renaming the graph's output. */
    int producerOf(String value) {
        for (int i = graph.getNodeCount() - 1; i >= 0; i--) {
            if (graph.getNode(i).getOutputList().contains(value)) {
                return i;
            }
        }
        return -1;
    }

    /** Renames the output of node {@code index} (which nothing else reads yet: it is the graph's last value). */
    void renameOutput(int index, String from, String to) {
        NodeProto node = graph.getNode(index);
        int position = node.getOutputList().indexOf(from);
        graph.setNode(index, node.toBuilder().setOutput(position, to));
        for (NodeProto other : graph.getNodeList()) {
            if (other.getInputList().contains(from)) {
                throw new IllegalStateException("ONNX export: value '" + from + "' is read after the graph's output");
            }
        }
        names.add(to);
    }

    static TensorProto floats(String name, int[] dims, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Float.BYTES * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(UnsafeByteOperations.unsafeWrap(bytes.array())); // not copied: nothing writes the array again
        for (int dim : dims) {
            tensor.addDims(dim);
        }
        return tensor.build();
    }

    // Attribute helpers: ONNX requires the type discriminator next to the value.

    /**
     * {@return an INTS attribute}
     *
     * @param name the attribute's name
     * @param values the values
     */
    public static AttributeProto ints(String name, int... values) {
        AttributeProto.Builder attribute = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (int value : values) {
            attribute.addInts(value);
        }
        return attribute.build();
    }

    /**
     * {@return an INT attribute}
     *
     * @param name the attribute's name
     * @param value the value
     */
    public static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /**
     * {@return a FLOAT attribute}
     *
     * @param name the attribute's name
     * @param value the value
     */
    public static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }
}
