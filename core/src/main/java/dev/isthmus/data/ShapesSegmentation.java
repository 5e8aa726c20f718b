package dev.isthmus.data;

import dev.isthmus.random.CounterRng;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Generated images for segmentation tests: one to three filled circles and rectangles on a noisy
 * background, and their masks with three classes: {@link #BACKGROUND} 0, {@link #CIRCLE} 1,
 * {@link #RECTANGLE} 2. A later shape covers an earlier one, in the picture and in the mask alike.
 * Image {@code i} is a pure function of (seed, i), computed on every read.
 *
 * <p>Per image: a background level in [0, 0.3]; per shape a kind, a size of size/8 to size/4
 * (radius, or half side of each rectangle side), a position inside the picture and a colour per
 * channel in [0.55, 1]; per pixel noise of ±0.1; values quantised to bytes like a decoded image.
 * Training and test sets are disjoint index ranges of one seed ({@code firstIndex}).
 */
public final class ShapesSegmentation implements SegmentationDataset {
    /** The b a c k g r o u n d. */
    public static final int BACKGROUND = 0;
    /** The c i r c l e. */
    public static final int CIRCLE = 1;
    /** The r e c t a n g l e. */
    public static final int RECTANGLE = 2;
    /** The c l a s s e s. */
    public static final int CLASSES = 3;
    private static final int MAX_SHAPES = 3;
    private static final long IMAGE_STREAM = 21;
    private static final long NOISE_STREAM = 22;

    private final int channels;
    private final int side;
    private final int size;
    private final long seed;
    private final long firstIndex;
    private final Shape sampleShape;

    /**
     * Makes one from its parts.
     *
     * @param channels the channels C
     * @param side the image side in pixels
     * @param size the size on every axis
     * @param seed the seed of the generator
     * @param firstIndex the index of the first sample (a split starts further on)
     */
    public ShapesSegmentation(int channels, int side, int size, long seed, long firstIndex) {
        if (channels < 1 || side < 8) {
            throw new IllegalArgumentException("ShapesSegmentation: needs channels >= 1 and size >= 8, got " + channels
                    + " channels of " + side + "x" + side);
        }
        if (size < 0 || firstIndex < 0) {
            throw new IllegalArgumentException("ShapesSegmentation: size and first index must be >= 0, got " + size + ", "
                    + firstIndex);
        }
        this.channels = channels;
        this.side = side;
        this.size = size;
        this.seed = seed;
        this.firstIndex = firstIndex;
        this.sampleShape = Shape.of(channels, side, side);
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
        return CLASSES;
    }

    /**
     * The first {@code count} images of this set (the same images, from the same first index).
     *
     * @param count the images kept, in [0, size]
     * @return the first count images
     */
    public ShapesSegmentation first(int count) {
        if (count < 0 || count > size) {
            throw new IllegalArgumentException(describe() + ": cannot keep the first " + count + " of " + size + " images");
        }
        return new ShapesSegmentation(channels, side, count, seed, firstIndex);
    }

    private float draw(long image, int k) {
        return CounterRng.uniform(CounterRng.mix(seed, IMAGE_STREAM, image), k, 0);
    }

    /** Draws 0..1 of shape {@code s} come after the image's own draws, 4 + channels per shape. */
    private int shapeDraw(int s, int k) {
        return 2 + s * (5 + channels) + k;
    }

    private int shapeCount(long image) {
        return 1 + Math.min(MAX_SHAPES - 1, (int) (draw(image, 0) * MAX_SHAPES));
    }

    private ShapePainter.Shape2d shape(long image, int s) {
        float minimum = Math.max(1.5f, side / 8f);
        float maximum = side / 4f;
        float cx = draw(image, shapeDraw(s, 1)) * (side - 1);
        float cy = draw(image, shapeDraw(s, 2)) * (side - 1);
        float a = minimum + draw(image, shapeDraw(s, 3)) * (maximum - minimum);
        if (draw(image, shapeDraw(s, 0)) < 0.5f) {
            return ShapePainter.Shape2d.circle(cx, cy, a);
        }
        float b = minimum + draw(image, shapeDraw(s, 4)) * (maximum - minimum);
        return ShapePainter.Shape2d.rectangle(Math.round(cx - a), Math.round(cy - b), Math.round(cx + a), Math.round(cy + b));
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException(describe() + ": sample index " + index + " is out of range for size " + size);
        }
    }

    private void checkDestination(MemorySegment destination, long offset, long elements, String what) {
        if (destination == null) {
            throw new IllegalArgumentException(describe() + ": destination segment is null");
        }
        long capacity = destination.byteSize() / Float.BYTES;
        if (offset < 0 || offset > capacity - elements) {
            throw new IllegalArgumentException(describe() + ": " + what + " of " + elements + " elements at element offset "
                    + offset + " does not fit a destination of " + capacity + " elements");
        }
    }

    /** The class of each pixel, row-major: the last shape drawn that covers it, else background. */
    private int[] mask(long image) {
        int[] mask = new int[side * side];
        int shapes = shapeCount(image);
        for (int s = 0; s < shapes; s++) {
            ShapePainter.Shape2d shape = shape(image, s);
            int label = shape.kind() == ShapePainter.Kind.CIRCLE ? CIRCLE : RECTANGLE;
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    if (shape.covers(x, y)) {
                        mask[y * side + x] = label;
                    }
                }
            }
        }
        return mask;
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        checkIndex(index);
        checkDestination(destination, floatOffset, sampleShape.elementCount(), "an image");
        long image = firstIndex + index;
        int shapes = shapeCount(image);
        float background = 0.3f * draw(image, 1);
        float[] picture = new float[channels * side * side];
        java.util.Arrays.fill(picture, background);
        for (int s = 0; s < shapes; s++) {
            ShapePainter.Shape2d shape = shape(image, s);
            for (int c = 0; c < channels; c++) {
                float colour = 0.55f + 0.45f * draw(image, shapeDraw(s, 5 + c));
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        if (shape.covers(x, y)) {
                            picture[(c * side + y) * side + x] = colour;
                        }
                    }
                }
            }
        }
        long noiseSeed = CounterRng.mix(seed, NOISE_STREAM, image);
        for (int at = 0; at < picture.length; at++) {
            float noise = 0.2f * CounterRng.uniform(noiseSeed, 0, at) - 0.1f;
            destination.setAtIndex(ValueLayout.JAVA_FLOAT, floatOffset + at, ShapePainter.quantised(picture[at] + noise));
        }
    }

    @Override
    public void readMask(int index, MemorySegment destination, long intOffset) {
        checkIndex(index);
        checkDestination(destination, intOffset, (long) side * side, "a mask");
        int[] mask = mask(firstIndex + index);
        MemorySegment.copy(mask, 0, destination, ValueLayout.JAVA_INT, intOffset * Integer.BYTES, mask.length);
    }

    @Override
    public String describe() {
        return "shapes-segmentation(seed " + seed + ")[" + firstIndex + ":" + (firstIndex + size) + "]: " + size
                + " images of " + sampleShape + ", " + CLASSES + " classes (background, circle, rectangle)";
    }

    @Override
    public String toString() {
        return describe();
    }
}
