package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

/**
 * A fixed, indexable collection of images with a class per pixel: image {@code i} is read as a
 * {@link Dataset}'s samples are ([channels, height, width] floats in [0, 1]), its mask as height·width
 * I32 class indices in [0, classes), row-major. Implementations are immutable.
 */
public interface SegmentationDataset {
    /** {@return the size} */
    int size();

    /**
     * The shape of one image, [channels, height, width].
     *
     * @return the sample shape
     */
    Shape sampleShape();

    /**
     * Mask values lie in [0, classes); class 0 is the background.
     *
     * @return the classes
     */
    int classes();

    /**
     * Writes image {@code index} as C·H·W floats into {@code destination} from element {@code floatOffset}.
     *
     * @param index the sample index
     * @param destination the destination
     * @param floatOffset the float offset
     */
    void read(int index, MemorySegment destination, long floatOffset);

    /**
     * Writes the mask of image {@code index} as H·W ints into {@code destination} from element {@code intOffset}.
     *
     * @param index the sample index
     * @param destination the destination
     * @param intOffset the int offset
     */
    void readMask(int index, MemorySegment destination, long intOffset);

    /** {@return the describe} */
    String describe();
}
