package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

/**
 * A fixed, indexable collection of images with a class per pixel: image {@code i} is read as a
 * {@link Dataset}'s samples are ([channels, height, width] floats in [0, 1]), its mask as height·width
 * I32 class indices in [0, classes), row-major. Implementations are immutable.
 *
 * <p>It is a {@link Dataset} whose {@linkplain #labelShape() labels} are [height, width], so a
 * {@link DataLoader} batches its masks as [n, height, width] and a trainer trains it per pixel.
 * There is no single class per sample: {@link #label(int)} refuses.
 */
public interface SegmentationDataset extends Dataset {
    /**
     * Mask values lie in [0, classes); class 0 is the background.
     *
     * @return the classes
     */
    @Override
    int classes();

    /**
     * [height, width] of the sample shape: one class per pixel.
     *
     * @return [height, width]
     */
    @Override
    default Shape labelShape() {
        Shape sample = sampleShape();
        return Shape.of(sample.dim(sample.rank() - 2), sample.dim(sample.rank() - 1));
    }

    /**
     * Refuses: a segmentation sample has a class per pixel, not one class.
     *
     * @param index the sample
     * @return never
     * @throws UnsupportedOperationException always; read the mask with {@link #readLabels}
     */
    @Override
    default int label(int index) {
        throw new UnsupportedOperationException(describe() + ": labels are per pixel " + labelShape()
                + ", not one class per sample; read them with readLabels or readMask");
    }

    /**
     * The mask, as {@link #readMask}.
     *
     * @param index the sample index
     * @param destination the destination
     * @param intOffset the int offset
     */
    @Override
    default void readLabels(int index, MemorySegment destination, long intOffset) {
        readMask(index, destination, intOffset);
    }

    /**
     * Writes the mask of image {@code index} as H·W ints into {@code destination} from element {@code intOffset}.
     *
     * @param index the sample index
     * @param destination the destination
     * @param intOffset the int offset
     */
    void readMask(int index, MemorySegment destination, long intOffset);
}
