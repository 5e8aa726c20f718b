package dev.isthmus.onnx;

import dev.isthmus.device.ConvGeometry;
import dev.isthmus.nn.BatchNorm;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Conv3d;
import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.isthmus.onnx.OnnxGraph.ints;
import static dev.isthmus.onnx.OnnxGraph.integer;
import static dev.isthmus.onnx.OnnxGraph.real;

/** The layers with weights: Conv2d and Conv3d → Conv, Linear → Gemm, BatchNorm1d/2d → BatchNormalization (running statistics). */
final class ParameterLayerExporters {
    private ParameterLayerExporters() {
    }

    static void register() {
        LayerExporters.register(Conv2d.class, ParameterLayerExporters::conv);
        LayerExporters.register(Conv3d.class, ParameterLayerExporters::conv3d);
        LayerExporters.register(Linear.class, ParameterLayerExporters::linear);
        LayerExporters.register(BatchNorm.class, ParameterLayerExporters::batchNorm);
    }

    /** Weights OIHW as PyTorch's; pads are [top, left, bottom, right]. */
    private static String conv(Conv2d conv, String input, OnnxGraph graph) {
        ConvGeometry g = conv.geometry();
        List<String> inputs = new ArrayList<>();
        inputs.add(input);
        for (Parameter parameter : conv.parameters()) {
            inputs.add(graph.parameter(parameter.name(), parameter.value())); // weight, then bias when there is one
        }
        return graph.node("Conv", inputs,
                ints("kernel_shape", g.kernelHeight(), g.kernelWidth()),
                ints("strides", g.strideHeight(), g.strideWidth()),
                ints("pads", g.padHeight(), g.padWidth(), g.padHeight(), g.padWidth()),
                ints("dilations", g.dilationHeight(), g.dilationWidth()),
                integer("group", g.groups()));
    }

    /** Weights OIDHW as PyTorch's; pads are [front, top, left, back, bottom, right]. */
    private static String conv3d(Conv3d conv, String input, OnnxGraph graph) {
        Conv3dGeometry g = conv.geometry();
        List<String> inputs = new ArrayList<>();
        inputs.add(input);
        for (Parameter parameter : conv.parameters()) {
            inputs.add(graph.parameter(parameter.name(), parameter.value()));
        }
        int[] pad = g.padding().toArray();
        return graph.node("Conv", inputs,
                ints("kernel_shape", g.kernel().toArray()),
                ints("strides", g.stride().toArray()),
                ints("pads", pad[0], pad[1], pad[2], pad[0], pad[1], pad[2]),
                ints("dilations", g.dilation().toArray()),
                integer("group", g.groups()));
    }

    /** y = x·Wᵀ + b: Gemm with transB, W stored [out, in] as PyTorch's. */
    private static String linear(Linear linear, String input, OnnxGraph graph) {
        List<String> inputs = new ArrayList<>();
        inputs.add(input);
        for (Parameter parameter : linear.parameters()) {
            inputs.add(graph.parameter(parameter.name(), parameter.value()));
        }
        return graph.node("Gemm", inputs, integer("transB", 1));
    }

    /**
     * Eval mode: (x − running_mean) / sqrt(running_var + eps) · γ + β. Without affine parameters
     * γ = 1 and β = 0 are written as constants (ONNX needs them), named as the missing parameters.
     */
    private static String batchNorm(BatchNorm norm, String input, OnnxGraph graph) {
        int features = norm.numFeatures();
        String scale;
        String bias;
        if (norm.affine()) {
            List<Parameter> parameters = norm.parameters();
            scale = graph.parameter(parameters.get(0).name(), parameters.get(0).value());
            bias = graph.parameter(parameters.get(1).name(), parameters.get(1).value());
        } else {
            float[] ones = new float[features];
            Arrays.fill(ones, 1f);
            scale = graph.parameter("weight", Shape.of(features), ones);
            bias = graph.parameter("bias", Shape.of(features), new float[features]);
        }
        List<String> inputs = new ArrayList<>(List.of(input, scale, bias));
        for (NamedTensor buffer : norm.buffers()) {
            inputs.add(graph.parameter(buffer.name(), buffer.tensor())); // running_mean, running_var
        }
        return graph.node("BatchNormalization", inputs, real("epsilon", norm.eps()));
    }
}
