package dev.isthmus.nn;

/**
 * Called before and after every layer's forward and backward while a model has it
 * ({@link Model#addHook}): a container's calls enclose its children's. Profiling, tracing and
 * activation statistics live here, so that layers hold only their maths.
 */
public interface LayerHook {
    default void beforeForward(Layer layer) {
    }

    default void afterForward(Layer layer) {
    }

    default void beforeBackward(Layer layer) {
    }

    default void afterBackward(Layer layer) {
    }
}
