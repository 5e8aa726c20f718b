package dev.isthmus.data;

import dev.isthmus.random.CounterRng;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Generated video clips for action-recognition tests: one filled circle or square moving in a
 * straight line over a noisy background, labelled by its direction of motion: 0 right, 1 left,
 * 2 down, 3 up. Samples are [channels, frames, size, size] in [0, 1], and clip {@code i} is a pure
 * function of (seed, i), computed on every read (no files, no memory).
 *
 * <p>Per clip: a shape of radius size/8 to size/5, one colour per channel well above the
 * background, a speed of 1 or 2 pixels per frame (1 when 2 would leave the picture), a start
 * from which the whole path stays inside, and per-pixel noise of ±0.1 on every frame. Only the
 * motion tells the classes apart: every position, shape and colour occurs in each. As in
 * {@link SyntheticDataset}, a training and a test set are disjoint index ranges of one seed.
 */
public final class MovingShapes implements Dataset {
    /** The d i r e c t i o n s. */
    public static final int DIRECTIONS = 4;
    private static final String[] DIRECTION_NAMES = {"right", "left", "down", "up"};
    private static final long CLIP_STREAM = 11;
    private static final long NOISE_STREAM = 12;

    private final int channels;
    private final int frames;
    private final int side;
    private final int size;
    private final long seed;
    private final long firstIndex;
    private final Shape sampleShape;

    /**
     * Clips {@code firstIndex} to {@code firstIndex + size - 1} of the generator for {@code seed}.
     *
     * @param channels the channels C
     * @param frames the frames per clip
     * @param side the image side in pixels
     * @param size the size on every axis
     * @param seed the seed of the generator
     * @param firstIndex the index of the first sample (a split starts further on)
     */
    public MovingShapes(int channels, int frames, int side, int size, long seed, long firstIndex) {
        if (channels < 1 || frames < 2 || side < 8) {
            throw new IllegalArgumentException("MovingShapes: needs channels >= 1, frames >= 2 and size >= 8, got "
                    + channels + " channels, " + frames + " frames of " + side + "x" + side);
        }
        if (size < 0 || firstIndex < 0) {
            throw new IllegalArgumentException("MovingShapes: size and first index must be >= 0, got " + size + ", "
                    + firstIndex);
        }
        this.channels = channels;
        this.frames = frames;
        this.side = side;
        this.size = size;
        this.seed = seed;
        this.firstIndex = firstIndex;
        this.sampleShape = Shape.of(channels, frames, side, side);
    }

    /**
     * The name of direction label {@code label}.
     *
     * @param label the label
     * @return the direction name
     */
    public static String directionName(int label) {
        return DIRECTION_NAMES[label];
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
        return DIRECTIONS;
    }

    /** Draw {@code k} of clip {@code clip}, uniform in [0, 1). */
    private float draw(long clip, int k) {
        return CounterRng.uniform(CounterRng.mix(seed, CLIP_STREAM, clip), k, 0);
    }

    private int directionOf(long clip) {
        return Math.min(DIRECTIONS - 1, (int) (draw(clip, 0) * DIRECTIONS));
    }

    @Override
    public int label(int index) {
        SampleChecks.index(this, index);
        return directionOf(firstIndex + index);
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        SampleChecks.index(this, index);
        int floats = Math.toIntExact(sampleShape.elementCount());
        SampleChecks.destination(this, destination, floatOffset, floats);
        long clip = firstIndex + index;
        int direction = directionOf(clip);
        float minRadius = Math.max(1.5f, side / 8f);
        float radius = minRadius + draw(clip, 1) * (side / 5f - minRadius);
        int extent = (int) Math.ceil(radius);
        int room = side - 1 - 2 * extent;
        int speed = draw(clip, 2) < 0.5f && 2 * (frames - 1) <= room ? 2 : 1;
        int travel = Math.min(room, speed * (frames - 1));
        // Along the motion, start so that the whole path fits; across it, anywhere inside.
        float along = extent + draw(clip, 3) * (room - travel);
        float across = extent + draw(clip, 4) * room;
        boolean square = draw(clip, 5) < 0.5f;
        float background = 0.3f * draw(clip, 6);
        float[] colour = new float[channels];
        for (int c = 0; c < channels; c++) {
            colour[c] = 0.6f + 0.4f * draw(clip, 7 + c);
        }
        float sign = direction == 0 || direction == 2 ? 1 : -1;
        boolean horizontal = direction < 2;
        long noiseSeed = CounterRng.mix(seed, NOISE_STREAM, clip);
        float start = sign > 0 ? along : side - 1 - along;
        for (int t = 0; t < frames; t++) {
            float position = start + sign * Math.min(travel, speed * t);
            float cx = horizontal ? position : across;
            float cy = horizontal ? across : position;
            ShapePainter.Shape2d shape = square
                    ? ShapePainter.Shape2d.rectangle(Math.round(cx - radius), Math.round(cy - radius), Math.round(cx + radius),
                            Math.round(cy + radius))
                    : ShapePainter.Shape2d.circle(cx, cy, radius);
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    boolean inside = shape.covers(x, y);
                    for (int c = 0; c < channels; c++) {
                        long at = (((long) c * frames + t) * side + y) * side + x;
                        float noise = 0.2f * CounterRng.uniform(noiseSeed, 0, at) - 0.1f;
                        float value = (inside ? colour[c] : background) + noise;
                        destination.setAtIndex(ValueLayout.JAVA_FLOAT, floatOffset + at, ShapePainter.quantised(value));
                    }
                }
            }
        }
    }

    @Override
    public String describe() {
        return "moving-shapes(seed " + seed + ")[" + firstIndex + ":" + (firstIndex + size) + "]: " + size + " clips of "
                + sampleShape + ", " + DIRECTIONS + " directions";
    }

    @Override
    public String toString() {
        return describe();
    }
}
