package dev.isthmus.onnx;

import dev.isthmus.nn.Layer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which {@link LayerExporter} writes which layer class. The layers of {@code dev.isthmus.nn} are
 * registered here; a layer added later registers its exporter with {@link #register} (in
 * {@link #registerBuiltIns} for the library's own). A class without an exporter of its own uses
 * its nearest registered superclass's ({@code LogSoftmax} is a {@code Softmax}).
 */
public final class LayerExporters {
    private static final Map<Class<? extends Layer>, LayerExporter<?>> EXPORTERS = new ConcurrentHashMap<>();

    static {
        registerBuiltIns();
    }

    private LayerExporters() {
    }

    private static void registerBuiltIns() {
        ContainerExporters.register();
        ParameterLayerExporters.register();
        PoolExporters.register();
        ActivationExporters.register();
        ShapeExporters.register();
        WindowExporters.register();
        SegmentationExporters.register();
    }

    /**
     * Makes {@code exporter} the one for {@code type} (and its subclasses without their own), replacing any.
     *
     * @param <L> the layer type
     * @param type the layer class
     * @param exporter writes the layer’s nodes
     */
    public static <L extends Layer> void register(Class<L> type, LayerExporter<? super L> exporter) {
        if (type == null || exporter == null) {
            throw new IllegalArgumentException("LayerExporters.register: the layer class and the exporter must not be null");
        }
        EXPORTERS.put(type, exporter);
    }

    /** The exporter for this layer's class or its nearest registered superclass, or null when there is none. */
    @SuppressWarnings("unchecked")
    static <L extends Layer> LayerExporter<L> find(L layer) {
        for (Class<?> type = layer.getClass(); type != null && Layer.class.isAssignableFrom(type); type = type.getSuperclass()) {
            LayerExporter<?> exporter = EXPORTERS.get(type);
            if (exporter != null) {
                return (LayerExporter<L>) exporter;
            }
        }
        return null;
    }
}
