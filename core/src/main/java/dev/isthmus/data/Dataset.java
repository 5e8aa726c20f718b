package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A fixed, indexable collection of labelled images. Samples are read one at a time into native
 * memory as floats in [0, 1] (pixel / 255, as torchvision's {@code ToTensor}), channel-major (CHW),
 * so a {@link DataLoader} can assemble a batch without an intermediate copy.
 *
 * <p>A sample's label is one class ({@link #labelShape()} is [], the default) or, for a segmentation
 * set, one class per pixel ({@link #labelShape()} is [height, width]; see {@link SegmentationDataset}).
 * {@link #readLabels} writes either form as I32, so a loader handles both with one call per sample.
 *
 * <p>Implementations are immutable: {@link #read} and {@link #label} may be called from the
 * loader's prefetch thread while the caller trains on another.
 */
public interface Dataset {
    /** {@return the number of samples} */
    int size();

    /**
     * The shape of one sample: [channels, height, width], or [channels, frames, height, width] for a clip.
     *
     * @return the shape of one sample
     */
    Shape sampleShape();

    /**
     * Labels lie in [0, classes).
     *
     * @return the number of classes
     */
    int classes();

    /**
     * The class of sample {@code index}.
     *
     * @param index the sample, in [0, size)
     * @return the class of sample {@code index}
     * @throws IllegalArgumentException when index is outside [0, size)
     */
    int label(int index);

    /**
     * The shape of one sample's labels: [] for one class per sample (classification), [height, width]
     * for a class per pixel (segmentation).
     *
     * @return the shape of one sample's labels
     */
    default Shape labelShape() {
        return Shape.of();
    }

    /**
     * Writes the labels of sample {@code index}, {@link #labelShape()}'s element count of I32 values
     * (row-major), into {@code destination} from element {@code intOffset}. The default writes
     * {@link #label(int)}.
     *
     * @param index the sample, in [0, size)
     * @param destination native memory of at least intOffset + labelShape().elementCount() ints
     * @param intOffset the element (not byte) where the labels start
     * @throws IllegalArgumentException when index is outside [0, size)
     */
    default void readLabels(int index, MemorySegment destination, long intOffset) {
        destination.setAtIndex(ValueLayout.JAVA_INT, intOffset, label(index));
    }

    /**
     * Writes sample {@code index} as C·H·W floats in [0, 1], CHW order, into {@code destination}
     * starting at element {@code floatOffset} (not bytes).
     *
     * @param index the sample, in [0, size)
     * @param destination native memory of at least floatOffset + C·H·W floats
     * @param floatOffset the element (not byte) where the sample starts
     * @throws IllegalArgumentException when index is outside [0, size) or the sample does not fit
     */
    void read(int index, MemorySegment destination, long floatOffset);

    /**
     * One line for logs: name, size, sample shape, classes.
     *
     * @return one line for logs: name, size, sample shape, classes
     */
    String describe();
}
