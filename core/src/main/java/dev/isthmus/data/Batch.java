package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

/**
 * One batch in native memory owned by its {@link DataLoader}: images as F32 [n, C, H, W] and
 * labels as I32 [n] (a class per sample) or [n, H, W] (a class per pixel, segmentation), both in native byte order and sized exactly for the n samples, so each can be
 * copied whole into a device tensor of the same shape. Valid until the loader's next call to
 * {@code next()} or {@code startEpoch()}, which may overwrite it; copy what must outlive that.
 */
public final class Batch {
    private final MemorySegment images;
    private final MemorySegment labels;
    private final Shape shape;
    private final Shape labelShape;

    Batch(MemorySegment images, MemorySegment labels, Shape shape, Shape labelShape) {
        this.images = images;
        this.labels = labels;
        this.shape = shape;
        this.labelShape = labelShape;
    }

    /**
     * n·C·H·W floats, sample-major, each sample CHW.
     *
     * @return n·C·H·W floats, sample-major, each sample CHW
     */
    public MemorySegment images() {
        return images;
    }

    /**
     * The 32-bit class indices of {@link #labelShape()}: one per sample, or one per pixel, sample-major.
     *
     * @return the 32-bit class indices
     */
    public MemorySegment labels() {
        return labels;
    }

    /**
     * The number of samples n; the last batch of an epoch may hold fewer than the batch size.
     *
     * @return the number of samples n; the last batch of an epoch may hold fewer than the batch size
     */
    public int size() {
        return shape.dim(0);
    }

    /**
     * [n, C, H, W].
     *
     * @return the shape of the images, [n, C, H, W]
     */
    public Shape shape() {
        return shape;
    }

    /**
     * [n] for a class per sample, [n, H, W] for a class per pixel.
     *
     * @return the shape of the labels
     */
    public Shape labelShape() {
        return labelShape;
    }

    @Override
    public String toString() {
        return "Batch" + shape + " labels" + labelShape;
    }
}
