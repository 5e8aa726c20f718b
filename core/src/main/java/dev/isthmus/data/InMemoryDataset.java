package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

/**
 * A dataset held in the Java heap as uint8 pixels (C·H·W bytes per sample, CHW order, samples back
 * to back) and one label per sample. Bytes rather than floats: Fashion-MNIST is 47 MB this way
 * and CIFAR-10 150 MB, a quarter of their float size; the conversion happens per batch.
 *
 * <p>The constructor takes ownership of the arrays without copying them (a copy would double the
 * peak memory of loading CIFAR-10); the caller must not modify them afterwards.
 * {@link #subset(int, int)} returns a view over the same arrays.
 */
public final class InMemoryDataset implements Dataset {
    /** The name of the whole dataset; a view adds its range in {@link #describe()}. */
    private final String name;
    private final boolean view;
    private final Shape sampleShape;
    private final int sampleBytes;
    private final int classes;
    private final byte[] pixels;
    /** Exactly one of the two label arrays is non-null. */
    private final byte[] byteLabels;
    private final int[] intLabels;
    /** The window of the arrays this dataset (or view) covers. */
    private final int first;
    private final int size;

    /**
     * Labels as unsigned bytes, the form IDX and CIFAR files store them in.
     *
     * @param name the dataset's name, for messages
     * @param sampleShape the shape of one sample, [C, H, W]
     * @param classes the number of classes
     * @param pixels the pixels, one byte each, sample-major and CHW
     * @param labels the labels, one per sample
     */
    public InMemoryDataset(String name, Shape sampleShape, int classes, byte[] pixels, byte[] labels) {
        this(name, sampleShape, classes, pixels, requireLabels(labels), null);
    }

    /**
     * As {@link #InMemoryDataset(String, Shape, int, byte[], byte[])}, with labels as ints.
     *
     * @param name the dataset's name, for messages
     * @param sampleShape the shape of one sample, [C, H, W]
     * @param classes the number of classes
     * @param pixels the pixels, one byte each, sample-major and CHW
     * @param labels the labels, one per sample
     */
    public InMemoryDataset(String name, Shape sampleShape, int classes, byte[] pixels, int[] labels) {
        this(name, sampleShape, classes, pixels, null, requireLabels(labels));
    }

    private InMemoryDataset(String name, Shape sampleShape, int classes, byte[] pixels, byte[] byteLabels,
                            int[] intLabels) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("InMemoryDataset: name must not be blank");
        }
        this.sampleBytes = sampleBytes(name, sampleShape);
        if (classes < 1) {
            throw new IllegalArgumentException(name + ": classes must be >= 1, got " + classes);
        }
        if (pixels == null) {
            throw new IllegalArgumentException(name + ": pixels are null");
        }
        int count = byteLabels != null ? byteLabels.length : intLabels.length;
        if (pixels.length != (long) count * sampleBytes) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes do not hold " + count
                    + " samples of " + sampleShape + " (" + (long) count * sampleBytes + " bytes)");
        }
        for (int i = 0; i < count; i++) {
            int label = byteLabels != null ? byteLabels[i] & 0xFF : intLabels[i];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException(name + ": label " + label + " of sample " + i
                        + " is outside [0, " + classes + ")");
            }
        }
        this.name = name;
        this.view = false;
        this.sampleShape = sampleShape;
        this.classes = classes;
        this.pixels = pixels;
        this.byteLabels = byteLabels;
        this.intLabels = intLabels;
        this.first = 0;
        this.size = count;
    }

    private InMemoryDataset(InMemoryDataset whole, int from, int count) {
        this.name = whole.name;
        this.view = true;
        this.sampleShape = whole.sampleShape;
        this.sampleBytes = whole.sampleBytes;
        this.classes = whole.classes;
        this.pixels = whole.pixels;
        this.byteLabels = whole.byteLabels;
        this.intLabels = whole.intLabels;
        this.first = whole.first + from;
        this.size = count;
    }

    private static <T> T requireLabels(T labels) {
        if (labels == null) {
            throw new IllegalArgumentException("InMemoryDataset: labels are null");
        }
        return labels;
    }

    private static int sampleBytes(String name, Shape sampleShape) {
        if (sampleShape == null || sampleShape.rank() != 3) {
            throw new IllegalArgumentException(name + ": sample shape must be [channels, height, width], got "
                    + sampleShape);
        }
        for (int dim : sampleShape.dims()) {
            if (dim < 1) {
                throw new IllegalArgumentException(name + ": sample shape " + sampleShape + " has an empty dimension");
            }
        }
        return (int) sampleShape.elementCount();
    }

    /**
     * Samples [from, from + count) of this dataset as a view sharing its arrays (no copy).
     *
     * @param from the first sample
     * @param count the number of samples
     * @return samples [from, from + count) of this dataset as a view sharing its arrays (no copy)
     */
    public InMemoryDataset subset(int from, int count) {
        if (from < 0 || count < 0 || from > size - count) {
            throw new IllegalArgumentException(describe() + ": subset of " + count + " samples from " + from
                    + " is out of range for size " + size);
        }
        return new InMemoryDataset(this, from, count);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Shape sampleShape() {
        return sampleShape;
    }

    @Override
    public int classes() {
        return classes;
    }

    @Override
    public int label(int index) {
        SampleChecks.index(this, index);
        return byteLabels != null ? byteLabels[first + index] & 0xFF : intLabels[first + index];
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        SampleChecks.index(this, index);
        SampleChecks.destination(this, destination, floatOffset, sampleBytes);
        // The sample's start is below pixels.length, so it fits an int once computed in long.
        int start = (int) ((long) (first + index) * sampleBytes);
        Pixels.writeScaled(pixels, start, sampleBytes, destination, floatOffset);
    }

    @Override
    public String describe() {
        String range = view ? "[" + first + ":" + (first + size) + "]" : "";
        return name + range + ": " + size + " samples of " + sampleShape + ", " + classes + " classes";
    }

    @Override
    public String toString() {
        return describe();
    }
}
