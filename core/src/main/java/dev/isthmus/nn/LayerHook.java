package dev.isthmus.nn;

/**
 * Called before and after every layer's forward and backward while a model has it
 * ({@link Model#addHook}): a container's calls enclose its children's. Profiling, tracing and
 * activation statistics live here, so that layers hold only their maths.
 */
public interface LayerHook {
    /**
     * Before a layer's forward.
     *
     * @param layer the layer
     */
    default void beforeForward(Layer layer) {
    }

    /**
     * After a layer's forward.
     *
     * @param layer the layer
     */
    default void afterForward(Layer layer) {
    }

    /**
     * Before a layer's backward.
     *
     * @param layer the layer
     */
    default void beforeBackward(Layer layer) {
    }

    /**
     * After a layer's backward.
     *
     * @param layer the layer
     */
    default void afterBackward(Layer layer) {
    }
}
