package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * How an image file becomes a model's input sample: decoded ({@link ImageDecoding}), converted to
 * {@code channels} (RGB to grey as Pillow's {@code convert('L')}, grey to RGB by repetition),
 * resized and cropped to {@code height}×{@code width}, and scaled to [0, 1] like the IDX datasets.
 *
 * <p>The geometry follows torchvision's transforms, bilinear with antialiasing
 * ({@link Resampling}):
 * <ul>
 *   <li>{@code resize} and {@code centerCrop} 0: {@code Resize((height, width))}, straight to the
 *       model's size whatever the aspect ratio;</li>
 *   <li>{@code resize} N: {@code Resize(N)} (the shorter side becomes N, the other keeps the aspect
 *       ratio), then {@code CenterCrop((height, width))};</li>
 *   <li>{@code centerCrop} N alone: {@code CenterCrop(N)} of the image as it is (zero-padded where
 *       the image is smaller, as torchvision pads).</li>
 * </ul>
 * A center crop must give the model's size, so {@code centerCrop} N requires height = width = N.
 *
 * @param resize     the shorter side's length before cropping; 0 for none
 * @param centerCrop the side of the square center crop; 0 for none
 * @param channels the model's input channels (1 or 3)
 * @param height the model's input height
 * @param width the model's input width
 */
public record ImageTransform(int channels, int height, int width, int resize, int centerCrop) {
    /** The largest side accepted, far above any model's input, so sizes and products stay in int. */
    public static final int MAX_SIDE = 16_384;

    /** Validates the sizes. */
    public ImageTransform {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("ImageTransform: images become 1 (grey) or 3 (RGB) channels, not " + channels);
        }
        if (height < 1 || width < 1 || height > MAX_SIDE || width > MAX_SIDE) {
            throw new IllegalArgumentException("ImageTransform: the output size must be between 1 and " + MAX_SIDE
                    + " on each side, got " + height + "x" + width);
        }
        if (resize < 0 || resize > MAX_SIDE) {
            throw new IllegalArgumentException("ImageTransform: resize must be between 0 (none) and " + MAX_SIDE
                    + ", got " + resize);
        }
        if (centerCrop < 0) {
            throw new IllegalArgumentException("ImageTransform: center crop must be >= 0 (0: none), got " + centerCrop);
        }
        if (centerCrop > 0 && (centerCrop != height || centerCrop != width)) {
            throw new IllegalArgumentException("ImageTransform: a center crop of " + centerCrop + " gives " + centerCrop
                    + "x" + centerCrop + " images, but the model takes " + height + "x" + width);
        }
    }

    /**
     * Straight to {@code height}×{@code width}, no crop.
     *
     * @param channels the model's input channels (1 or 3)
     * @param height the model's input height
     * @param width the model's input width
     * @return the transform
     */
    public static ImageTransform toSize(int channels, int height, int width) {
        return new ImageTransform(channels, height, width, 0, 0);
    }

    /**
     * [channels, height, width].
     *
     * @return the sample shape, [channels, height, width]
     */
    public Shape sampleShape() {
        return Shape.of(channels, height, width);
    }

    /**
     * Decodes {@code file} and writes it as channels·height·width floats in [0, 1], CHW, at element
     * {@code floatOffset} of {@code destination}. Nothing is written when the file cannot be read.
     *
     * @param file the image file
     * @param destination native memory for C·H·W floats
     * @param floatOffset the element (not byte) where the sample starts
     * @throws UnreadableImageException naming the file when it is missing, not a PNG or JPEG
     *                                   ImageIO can decode, truncated or corrupt
     */
    public void load(Path file, MemorySegment destination, long floatOffset) throws UnreadableImageException {
        if (destination == null) {
            throw new IllegalArgumentException("ImageTransform: destination segment is null");
        }
        long floats = (long) channels * height * width;
        long capacity = destination.byteSize() / Float.BYTES;
        if (floatOffset < 0 || floatOffset > capacity - floats) {
            throw new IllegalArgumentException("ImageTransform: a sample of " + floats + " floats at element offset "
                    + floatOffset + " does not fit a destination of " + capacity + " floats");
        }
        DecodedImage image = ImageDecoding.decode(file, channels);
        int area = height * width;
        float[][] planes = new float[image.planes().length][];
        for (int plane = 0; plane < planes.length; plane++) {
            planes[plane] = geometry(image.planes()[plane], image.height(), image.width());
        }
        for (int channel = 0; channel < channels; channel++) {
            // A grey image asked for three channels has one plane, repeated.
            float[] plane = planes[Math.min(channel, planes.length - 1)];
            MemorySegment.copy(plane, 0, destination, ValueLayout.JAVA_FLOAT,
                    (floatOffset + (long) channel * area) * Float.BYTES, area);
        }
    }

    /**
     * One plane of unit floats, resized and cropped to height×width. Only the crop's window of the
     * resized image is computed, so a very long image resized by its shorter side costs no more
     * memory than the source.
     */
    float[] geometry(float[] plane, int sourceHeight, int sourceWidth) {
        if (resize == 0 && centerCrop == 0) {
            return Resampling.resize(plane, sourceHeight, sourceWidth, height, width, 0, 0, height, width);
        }
        if (resize == 0) {
            return Resampling.crop(plane, sourceHeight, sourceWidth, cropOffset(sourceHeight, height),
                    cropOffset(sourceWidth, width), height, width);
        }
        long[] size = shorterSideTo(resize, sourceHeight, sourceWidth);
        return Resampling.resize(plane, sourceHeight, sourceWidth, size[0], size[1],
                cropOffset(size[0], height), cropOffset(size[1], width), height, width);
    }

    /**
     * torchvision's {@code Resize(size)} output for an int size: the shorter side becomes
     * {@code size}, the longer {@code int(size * long / short)} (truncated, as Python's int()).
     *
     * @return {height, width}
     */
    static long[] shorterSideTo(int size, int height, int width) {
        long shorter = Math.min(height, width);
        long longer = Math.max(height, width);
        long scaledLonger = (long) ((double) (size * longer) / shorter);
        return width <= height ? new long[] {scaledLonger, size} : new long[] {size, scaledLonger};
    }

    /**
     * Where torchvision's {@code CenterCrop} starts on one axis of length {@code size} for a crop
     * of {@code crop}: {@code round((size - crop) / 2)} with Python's round (half to even), or,
     * when the crop is longer, minus the zero padding torchvision adds before it, {@code (crop - size) // 2}.
     */
    static long cropOffset(long size, int crop) {
        return crop > size ? -((crop - size) / 2) : (long) Math.rint((size - crop) / 2.0);
    }

    /**
     * One line for logs and checkpoints.
     *
     * @return one line for logs and checkpoints
     */
    public String describe() {
        String geometry = resize == 0 && centerCrop == 0 ? "resized to " + height + "x" + width
                : (resize > 0 ? "shorter side resized to " + resize + ", " : "") + "center crop " + height + "x" + width;
        return (channels == 1 ? "grey" : "RGB") + ", " + geometry + ", pixels in [0, 1]";
    }
}
