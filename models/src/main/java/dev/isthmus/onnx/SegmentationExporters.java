package dev.isthmus.onnx;

import dev.isthmus.models.UNet;
import dev.isthmus.nn.Concat;
import dev.isthmus.nn.ConvTranspose2d;
import dev.isthmus.nn.Identity;
import dev.isthmus.nn.Parameter;

import java.util.ArrayList;
import java.util.List;

import static dev.isthmus.onnx.OnnxGraph.integer;
import static dev.isthmus.onnx.OnnxGraph.ints;

/** The segmentation story: ConvTranspose2d → ConvTranspose, Concat → its branches and Concat, Identity, UNet. */
final class SegmentationExporters {
    private SegmentationExporters() {
    }

    static void register() {
        LayerExporters.register(ConvTranspose2d.class, SegmentationExporters::convTranspose);
        LayerExporters.register(Concat.class, SegmentationExporters::concat);
        LayerExporters.register(Identity.class, (layer, input, graph) -> graph.node("Identity", List.of(input)));
        LayerExporters.register(UNet.class, (unet, input, graph) -> graph.export(unet.body(), "", input));
    }

    /** Weights [in, out/groups, kH, kW] are ONNX's layout as PyTorch's; pads are [top, left, bottom, right]. */
    private static String convTranspose(ConvTranspose2d layer, String input, OnnxGraph graph) {
        List<String> inputs = new ArrayList<>();
        inputs.add(input);
        for (Parameter parameter : layer.parameters()) {
            inputs.add(graph.parameter(parameter.name(), parameter.value())); // weight, then bias when there is one
        }
        int[] pad = layer.paddings();
        return graph.node("ConvTranspose", inputs,
                ints("kernel_shape", layer.kernel()),
                ints("strides", layer.strides()),
                ints("pads", pad[0], pad[1], pad[0], pad[1]),
                ints("output_padding", layer.outputPaddings()),
                ints("dilations", layer.dilations()),
                integer("group", layer.groups()));
    }

    /** Every branch from the same input, each under its name (an unnamed Sequential's children under theirs). */
    private static String concat(Concat concat, String input, OnnxGraph graph) {
        List<String> outputs = new ArrayList<>();
        List<String> names = concat.branchNames();
        for (int i = 0; i < names.size(); i++) {
            outputs.add(graph.export(concat.branches().get(i), names.get(i), input));
        }
        return graph.node("Concat", outputs, integer("axis", 1));
    }
}
