package dev.isthmus.onnx;

import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.nn.AdaptiveAvgPool2d;
import dev.isthmus.nn.AvgPool2d;
import dev.isthmus.nn.GlobalAvgPool2d;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.Pool3d;

import java.util.List;

import static dev.isthmus.onnx.OnnxGraph.integer;
import static dev.isthmus.onnx.OnnxGraph.ints;

/**
 * MaxPool2d → MaxPool (padding never wins a maximum, as PyTorch's −∞), AvgPool2d → AveragePool
 * with count_include_pad as the layer's, GlobalAvgPool2d → GlobalAveragePool, each with
 * ceil_mode as the layer's. MaxPool3d/AvgPool3d → the same operators over
 * three axes, with ceil_mode as the layer's.
 */
final class PoolExporters {
    private PoolExporters() {
    }

    static void register() {
        LayerExporters.register(MaxPool2d.class, (pool, input, graph) -> pool(pool.window(), input, graph));
        LayerExporters.register(AvgPool2d.class, (pool, input, graph) -> pool(pool.window(), input, graph));
        LayerExporters.register(Pool3d.class, (pool, input, graph) -> pool3d(pool.poolGeometry(), input, graph));
        // Uniform windows are exactly one AveragePool; varying ones are written as a MatMul.
        LayerExporters.register(AdaptiveAvgPool2d.class, (pool, input, graph) -> pool.uniformFor(pool.inputShape())
                ? pool(pool.window(), input, graph) : WindowExporters.varyingAdaptiveAverage(pool, input, graph));
        LayerExporters.register(GlobalAvgPool2d.class, (pool, input, graph) -> graph.node("GlobalAveragePool", List.of(input)));
    }

    private static String pool(PoolGeometry g, String input, OnnxGraph graph) {
        var kernel = ints("kernel_shape", g.kernelHeight(), g.kernelWidth());
        var strides = ints("strides", g.strideHeight(), g.strideWidth());
        var pads = ints("pads", g.padHeight(), g.padWidth(), g.padHeight(), g.padWidth());
        var ceil = integer("ceil_mode", g.ceilMode() ? 1 : 0);
        if (g.mode() == PoolMode.MAX) {
            return graph.node("MaxPool", List.of(input), kernel, strides, pads, ceil);
        }
        var countPadding = integer("count_include_pad", g.mode() == PoolMode.AVERAGE_INCLUDE_PADDING ? 1 : 0);
        return graph.node("AveragePool", List.of(input), kernel, strides, pads, ceil, countPadding);
    }

    private static String pool3d(Pool3dGeometry g, String input, OnnxGraph graph) {
        int[] pad = g.padding().toArray();
        var kernel = ints("kernel_shape", g.kernel().toArray());
        var strides = ints("strides", g.stride().toArray());
        var pads = ints("pads", pad[0], pad[1], pad[2], pad[0], pad[1], pad[2]);
        var ceil = integer("ceil_mode", g.ceilMode() ? 1 : 0);
        if (g.mode() == PoolMode.MAX) {
            return graph.node("MaxPool", List.of(input), kernel, strides, pads, ceil);
        }
        var countPadding = integer("count_include_pad", g.mode() == PoolMode.AVERAGE_INCLUDE_PADDING ? 1 : 0);
        return graph.node("AveragePool", List.of(input), kernel, strides, pads, ceil, countPadding);
    }
}
