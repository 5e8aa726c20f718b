package dev.isthmus.onnx;

import dev.isthmus.nn.Layer;

/**
 * Writes one kind of layer into an ONNX graph: the nodes that compute, in eval mode, what the
 * layer's forward computes, and the initializers holding its parameters. Registered per layer
 * class with {@link LayerExporters#register}, so a new layer brings its own.
 *
 * @param <L> the layer class
 */
@FunctionalInterface
public interface LayerExporter<L extends Layer> {
    /**
     * Writes the nodes that compute {@code layer} in eval mode from the value named {@code input}.
     *
     * @param layer the layer, set up (its shapes known) and holding its parameters
     * @param input the name of the value the layer reads (NCHW, or [N, features])
     * @param graph where nodes and initializers go; {@link OnnxGraph#path()} is the layer's path
     * @return the name of the value holding the layer's output ({@code input} itself for a layer
     *         that is the identity in eval mode)
     */
    String export(L layer, String input, OnnxGraph graph);
}
