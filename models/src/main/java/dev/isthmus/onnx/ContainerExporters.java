package dev.isthmus.onnx;

import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Residual;
import dev.isthmus.nn.Sequential;

import java.util.List;
import java.util.Map;

/** Sequential (its children in order, each under its name) and Residual (main + shortcut, Add, Relu). */
final class ContainerExporters {
    private ContainerExporters() {
    }

    static void register() {
        LayerExporters.register(Sequential.class, ContainerExporters::sequential);
        LayerExporters.register(Residual.class, ContainerExporters::residual);
    }

    private static String sequential(Sequential sequential, String input, OnnxGraph graph) {
        String value = input;
        for (Map.Entry<String, Layer> child : sequential.children().entrySet()) {
            value = graph.export(child.getValue(), child.getKey(), value);
        }
        return value;
    }

    /** The main branch's children are named without a prefix and the projection under downsample, as torchvision's. */
    private static String residual(Residual block, String input, OnnxGraph graph) {
        String main = graph.export(block.mainBranch(), "", input);
        String skip = block.shortcut() == null ? input : graph.export(block.shortcut(), "downsample", input);
        String sum = graph.node("Add", "Add", List.of(main, skip));
        return block.finalRelu() ? graph.node("Relu", "Relu", List.of(sum)) : sum;
    }
}
