package dev.isthmus.onnx;

import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.onnx.proto.Onnx.GraphProto;
import dev.isthmus.onnx.proto.Onnx.ModelProto;
import dev.isthmus.onnx.proto.Onnx.OperatorSetIdProto;
import dev.isthmus.onnx.proto.Onnx.StringStringEntryProto;
import dev.isthmus.onnx.proto.Onnx.TensorProto;
import dev.isthmus.onnx.proto.Onnx.TensorShapeProto;
import dev.isthmus.onnx.proto.Onnx.TypeProto;
import dev.isthmus.onnx.proto.Onnx.ValueInfoProto;
import dev.isthmus.tensor.Shape;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model as an ONNX file for inference: eval mode (batch norm with its running statistics,
 * dropout left out), float32, the weights inside the file under their state_dict names. The
 * input is {@value #INPUT} [batch, C, H, W] and the output {@value #OUTPUT}, with the batch a
 * named dimension ({@value #BATCH}) so that any batch size runs; the other sizes are the model's.
 * Each layer is written by the {@link LayerExporter} registered for its class.
 */
public final class OnnxExport {
    /** Operator set 17 (ONNX 1.12, 2022): read by every current runtime; GELU is written out since Gelu is opset 20. */
    public static final int OPSET = 17;
    /** The IR version that goes with opset 17. */
    static final int IR_VERSION = 8;
    /** The i n p u t. */
    public static final String INPUT = "input";
    /** The o u t p u t. */
    public static final String OUTPUT = "output";
    /** The b a t c h. */
    public static final String BATCH = "batch";

    private OnnxExport() {
    }

    /**
     * The ONNX model of {@code model}, which must be built (its parameters exist, its shapes are known).
     *
     * @param model the model to export, built
     * @throws UnsupportedOperationException naming the layer and its path when a layer has no exporter
     * @return the ONNX ModelProto
     */
    public static ModelProto toProto(Model model) {
        return toProto(model, Map.of());
    }

    /**
     * As {@link #toProto(Model)}, with {@code metadata} (the checkpoint's class names, preprocessing) in metadata_props.
     *
     * @param model the model to export, built
     * @param metadata key-value pairs stored in the model’s metadata_props
     * @return the ONNX ModelProto
     */
    public static ModelProto toProto(Model model, Map<String, String> metadata) {
        Layer root = model.root();
        if (model.device() == null || root.inputShape() == null) {
            throw new IllegalStateException("ONNX export of " + model.name() + ": build the model first");
        }
        GraphProto.Builder graph = GraphProto.newBuilder().setName(model.name());
        OnnxGraph writer = new OnnxGraph(graph, INPUT);
        String last = writer.export(root, "", INPUT);
        int producer = writer.producerOf(last);
        if (producer >= 0) {
            writer.renameOutput(producer, last, OUTPUT);
        } else {
            // The whole model is the identity in eval mode: the output still needs a node of its own.
            writer.node("Identity", OUTPUT, List.of(last));
        }
        graph.addInput(value(INPUT, root.inputShape()));
        graph.addOutput(value(OUTPUT, root.outputShape()));
        ModelProto.Builder file = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName("isthmus")
                .setProducerVersion(producerVersion())
                .setDocString(model.name() + " exported by Isthmus in eval mode")
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("model").setValue(model.name()))
                .setGraph(graph);
        new TreeMap<>(metadata).forEach((key, value) -> {
            if (!key.equals("model")) {
                file.addMetadataProps(StringStringEntryProto.newBuilder().setKey(key).setValue(value));
            }
        });
        return file.build();
    }

    /**
     * Writes {@link #toProto} to {@code file} through a temporary file, so an interrupted export leaves no half file.
     *
     * @param model the model to export, built, in eval mode when written
     * @param file the .onnx file to write
     * @throws IOException when the file cannot be written
     */
    public static void write(Model model, Path file) throws IOException {
        write(model, Map.of(), file);
    }

    /**
     * As {@link #write(Model, Path)}, with {@code metadata} in the file's metadata_props.
     *
     * @param model the model to export, built, in eval mode when written
     * @param metadata key-value pairs stored in the model’s metadata_props
     * @param file the .onnx file to write
     * @throws IOException when the file cannot be written
     */
    public static void write(Model model, Map<String, String> metadata, Path file) throws IOException {
        ModelProto proto = toProto(model, metadata);
        Path absolute = file.toAbsolutePath();
        Path folder = absolute.getParent();
        Path temporary = Files.createTempFile(folder, absolute.getFileName().toString(), ".partial");
        try {
            try (OutputStream out = Files.newOutputStream(temporary)) {
                proto.writeTo(out);
            }
            Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** float32 of [batch, the rest of the shape]. */
    private static ValueInfoProto value(String name, Shape shape) {
        TensorShapeProto.Builder dims = TensorShapeProto.newBuilder();
        dims.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH));
        for (int i = 1; i < shape.rank(); i++) {
            dims.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(shape.dim(i)));
        }
        TypeProto.Tensor tensor = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(dims).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(tensor)).build();
    }

    private static String producerVersion() {
        String version = OnnxExport.class.getPackage().getImplementationVersion();
        return version == null ? "development" : version;
    }
}
