package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

/**
 * A fixed, indexable collection of images with a class per pixel: image {@code i} is read as a
 * {@link Dataset}'s samples are ([channels, height, width] floats in [0, 1]), its mask as height·width
 * I32 class indices in [0, classes), row-major. Implementations are immutable.
 */
public interface SegmentationDataset {
    /** {@return the number of images} */
    int size();

    /** {@return the shape of one image, [channels, height, width]} */
    Shape sampleShape();

    /** {@return the number of classes: mask values lie in [0, classes); class 0 is the background} */
    int classes();

    /**
     * Writes image {@code index} as C·H·W floats in [0, 1], CHW order, into {@code destination}
     * from element {@code floatOffset}.
     *
     * @param index the image, in [0, size)
     * @param destination native memory of at least floatOffset + C·H·W floats
     * @param floatOffset the element (not byte) where the image starts
     * @throws IllegalArgumentException when index is outside [0, size) or the image does not fit
     */
    void read(int index, MemorySegment destination, long floatOffset);

    /**
     * Writes the mask of image {@code index} as H·W ints, row-major, into {@code destination} from
     * element {@code intOffset}.
     *
     * @param index the image, in [0, size)
     * @param destination native memory of at least intOffset + H·W ints
     * @param intOffset the element (not byte) where the mask starts
     * @throws IllegalArgumentException when index is outside [0, size) or the mask does not fit
     */
    void readMask(int index, MemorySegment destination, long intOffset);

    /** {@return one line for logs: name, size, image shape, classes} */
    String describe();
}
