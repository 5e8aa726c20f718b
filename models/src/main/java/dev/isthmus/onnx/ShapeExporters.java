package dev.isthmus.onnx;

import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Flatten;

import java.util.List;

import static dev.isthmus.onnx.OnnxGraph.integer;

/** Flatten → Flatten(axis 1), whatever the batch; Dropout is the identity in eval mode and writes nothing. */
final class ShapeExporters {
    private ShapeExporters() {
    }

    static void register() {
        LayerExporters.register(Flatten.class, (layer, input, graph) -> graph.node("Flatten", List.of(input), integer("axis", 1)));
        LayerExporters.register(Dropout.class, (layer, input, graph) -> input);
    }
}
