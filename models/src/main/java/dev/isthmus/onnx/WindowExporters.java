package dev.isthmus.onnx;

import dev.isthmus.nn.AdaptiveAvgPool2d;
import dev.isthmus.nn.BinaryStep;
import dev.isthmus.nn.LocalResponseNorm;
import dev.isthmus.nn.Maxout;
import dev.isthmus.onnx.proto.Onnx.AttributeProto;
import dev.isthmus.onnx.proto.Onnx.TensorProto;
import dev.isthmus.tensor.Shape;

import java.util.List;

import static dev.isthmus.onnx.OnnxGraph.integer;
import static dev.isthmus.onnx.OnnxGraph.ints;
import static dev.isthmus.onnx.OnnxGraph.real;

/**
 * The AlexNet-era layers:
 * <ul>
 *   <li>LocalResponseNorm → ONNX {@code LRN} for odd sizes. ONNX sums channels
 *       c − floor((size−1)/2) to c + ceil((size−1)/2), PyTorch c − floor(size/2) to c + floor((size−1)/2):
 *       the same window when size is odd, shifted by one channel when it is even. Even sizes are written
 *       out instead: x², a 1×…×1 Conv whose constant weight sums PyTorch's window, then
 *       ·alpha/size, +k, ^beta and x / that.</li>
 *   <li>Maxout → Reshape to [N, C/k, k, ...] and ReduceMax over axis 2 (ONNX's ReduceMax, like
 *       torch.max, propagates NaN).</li>
 *   <li>BinaryStep → Cast(Greater(x, 0)) to float: 1 where x &gt; 0, else 0 (NaN included), as heaviside(x, 0).</li>
 *   <li>AdaptiveAvgPool2d with windows of varying size (no AveragePool has them) → Reshape to
 *       [N, C, H·W], MatMul by a constant [H·W, oh·ow] matrix holding 1/|window| where a pixel is in
 *       a window, Reshape to [N, C, oh, ow]. Uniform windows stay one AveragePool.</li>
 * </ul>
 */
final class WindowExporters {
    private WindowExporters() {
    }

    static void register() {
        LayerExporters.register(LocalResponseNorm.class, WindowExporters::localResponseNorm);
        LayerExporters.register(Maxout.class, WindowExporters::maxout);
        LayerExporters.register(BinaryStep.class, (layer, input, graph) -> {
            String positive = graph.node("Greater", "Greater", List.of(input, graph.scalar(0f)));
            return graph.node("Cast", "Cast", List.of(positive), integer("to", TensorProto.DataType.FLOAT_VALUE));
        });
    }

    private static String localResponseNorm(LocalResponseNorm layer, String input, OnnxGraph graph) {
        int size = layer.size();
        if (size % 2 == 1) {
            return graph.node("LRN", List.of(input), integer("size", size), real("alpha", layer.alpha()),
                    real("beta", layer.beta()), real("bias", layer.k()));
        }
        Shape shape = layer.inputShape();
        int channels = shape.dim(1);
        int[] weightDims = new int[shape.rank()];
        java.util.Arrays.fill(weightDims, 1);
        weightDims[0] = channels;
        weightDims[1] = channels;
        float[] window = new float[channels * channels];
        for (int c = 0; c < channels; c++) {
            for (int j = Math.max(0, c - size / 2); j <= Math.min(channels - 1, c + (size - 1) / 2); j++) {
                window[c * channels + j] = 1f;
            }
        }
        String weight = graph.parameter("channel_window", Shape.of(weightDims), window);
        int[] ones = new int[shape.rank() - 2];
        java.util.Arrays.fill(ones, 1);
        String squares = graph.node("Mul", "squares", List.of(input, input));
        String sums = graph.node("Conv", "window_sums", List.of(squares, weight), ints("kernel_shape", ones));
        String scaled = graph.node("Mul", "scaled", List.of(sums, graph.scalar(layer.alpha() / size)));
        String shifted = graph.node("Add", "shifted", List.of(scaled, graph.scalar(layer.k())));
        String divisor = graph.node("Pow", "divisor", List.of(shifted, graph.scalar(layer.beta())));
        return graph.node("Div", "Div", List.of(input, divisor));
    }

    private static String maxout(Maxout layer, String input, OnnxGraph graph) {
        int[] dims = layer.inputShape().dims();
        long[] grouped = new long[dims.length + 1];
        grouped[0] = 0; // Reshape's 0 keeps the input's dimension: any batch size
        grouped[1] = dims[1] / layer.pieces();
        grouped[2] = layer.pieces();
        for (int axis = 2; axis < dims.length; axis++) {
            grouped[axis + 1] = dims[axis];
        }
        String reshaped = graph.node("Reshape", "groups", List.of(input, int64s(graph, "groups_shape", grouped)));
        return graph.node("ReduceMax", "ReduceMax", List.of(reshaped), ints("axes", 2), integer("keepdims", 0));
    }

    /** AdaptiveAvgPool2d whose windows vary in size, as a MatMul by its averaging matrix. */
    static String varyingAdaptiveAverage(AdaptiveAvgPool2d layer, String input, OnnxGraph graph) {
        Shape shape = layer.inputShape();
        int channels = shape.dim(1);
        int height = shape.dim(2);
        int width = shape.dim(3);
        int oh = layer.outHeight();
        int ow = layer.outWidth();
        float[] matrix = new float[height * width * oh * ow];
        for (int i = 0; i < oh; i++) {
            int h0 = (int) ((long) i * height / oh);
            int h1 = (int) (((long) (i + 1) * height + oh - 1) / oh);
            for (int j = 0; j < ow; j++) {
                int w0 = (int) ((long) j * width / ow);
                int w1 = (int) (((long) (j + 1) * width + ow - 1) / ow);
                float share = 1f / ((h1 - h0) * (w1 - w0));
                for (int h = h0; h < h1; h++) {
                    for (int w = w0; w < w1; w++) {
                        matrix[(h * width + w) * (oh * ow) + i * ow + j] = share;
                    }
                }
            }
        }
        String pooling = graph.parameter("averaging_matrix", Shape.of(height * width, oh * ow), matrix);
        String planes = graph.node("Reshape", "planes",
                List.of(input, int64s(graph, "planes_shape", 0, channels, (long) height * width)));
        String pooled = graph.node("MatMul", "MatMul", List.of(planes, pooling));
        return graph.node("Reshape", "Reshape", List.of(pooled, int64s(graph, "output_shape", 0, channels, oh, ow)));
    }

    /** A constant int64 vector (Reshape's shape input), as a Constant node of the current layer. */
    private static String int64s(OnnxGraph graph, String suffix, long... values) {
        TensorProto.Builder tensor = TensorProto.newBuilder().setDataType(TensorProto.DataType.INT64_VALUE)
                .addDims(values.length);
        for (long value : values) {
            tensor.addInt64Data(value);
        }
        AttributeProto value = AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                .setT(tensor).build();
        return graph.node("Constant", suffix, List.of(), value);
    }
}
