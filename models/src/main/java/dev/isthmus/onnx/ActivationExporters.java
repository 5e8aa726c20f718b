package dev.isthmus.onnx;

import dev.isthmus.nn.ELU;
import dev.isthmus.nn.GELU;
import dev.isthmus.nn.LeakyReLU;
import dev.isthmus.nn.LogSoftmax;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sigmoid;
import dev.isthmus.nn.Softmax;
import dev.isthmus.nn.Tanh;

import java.util.List;

import static dev.isthmus.onnx.OnnxGraph.integer;
import static dev.isthmus.onnx.OnnxGraph.real;

/** The element-wise activations and (Log)Softmax over axis 1 (opset 13's single-axis Softmax is PyTorch's dim=1). */
final class ActivationExporters {
    /** 1/√2 in float, as PyTorch's exact GELU multiplies by M_SQRT1_2. */
    private static final float INVERSE_SQRT2 = (float) (1 / Math.sqrt(2));

    private ActivationExporters() {
    }

    static void register() {
        LayerExporters.register(ReLU.class, (layer, input, graph) -> graph.node("Relu", List.of(input)));
        LayerExporters.register(Sigmoid.class, (layer, input, graph) -> graph.node("Sigmoid", List.of(input)));
        LayerExporters.register(Tanh.class, (layer, input, graph) -> graph.node("Tanh", List.of(input)));
        LayerExporters.register(LeakyReLU.class,
                (layer, input, graph) -> graph.node("LeakyRelu", List.of(input), real("alpha", layer.negativeSlope())));
        LayerExporters.register(ELU.class, (layer, input, graph) -> graph.node("Elu", List.of(input), real("alpha", layer.alpha())));
        LayerExporters.register(GELU.class, (layer, input, graph) -> gelu(input, graph));
        LayerExporters.register(Softmax.class, (layer, input, graph) ->
                graph.node(layer instanceof LogSoftmax ? "LogSoftmax" : "Softmax", List.of(input), integer("axis", 1)));
    }

    /** x · ½ · (1 + erf(x/√2)); ONNX has Gelu only from opset 20, so it is written out as the exporters of PyTorch do. */
    private static String gelu(String x, OnnxGraph graph) {
        String scaled = graph.node("Mul", "scale", List.of(x, graph.scalar(INVERSE_SQRT2)));
        String erf = graph.node("Erf", "Erf", List.of(scaled));
        String onePlus = graph.node("Add", "Add", List.of(erf, graph.scalar(1f)));
        String half = graph.node("Mul", "half", List.of(onePlus, graph.scalar(0.5f)));
        return graph.node("Mul", "Mul", List.of(x, half));
    }
}
