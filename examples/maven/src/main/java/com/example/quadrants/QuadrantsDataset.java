package com.example.quadrants;

import dev.isthmus.data.Dataset;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Synthetic 1×8×8 images of noise in which one quadrant is brighter: the class is that quadrant
 * (0 top left, 1 top right, 2 bottom left, 3 bottom right). A sample is computed from its index, so
 * the dataset holds no pixels and is immutable, as {@link Dataset} requires (the loader reads it
 * from its prefetch thread).
 */
public final class QuadrantsDataset implements Dataset {
    static final int SIDE = 8;
    private static final int HALF = SIDE / 2;

    private final int size;
    private final long seed;

    /** @param seed a different seed gives different images (use one for training, another for testing) */
    public QuadrantsDataset(int size, long seed) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be > 0, got " + size);
        }
        this.size = size;
        this.seed = seed;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Shape sampleShape() {
        return Shape.of(1, SIDE, SIDE);
    }

    @Override
    public int classes() {
        return 4;
    }

    @Override
    public int label(int index) {
        check(index);
        return Math.floorMod(new SplittableRandom(seed * 1_000_003L + index).nextInt(), 4);
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        int label = label(index);
        long needed = (floatOffset + (long) SIDE * SIDE) * Float.BYTES;
        if (floatOffset < 0 || needed > destination.byteSize()) {
            throw new IllegalArgumentException("quadrants: sample " + index + " does not fit at float offset " + floatOffset);
        }
        SplittableRandom noise = new SplittableRandom(~(seed * 1_000_003L + index));
        for (int y = 0; y < SIDE; y++) {
            for (int x = 0; x < SIDE; x++) {
                int quadrant = (y < HALF ? 0 : 2) + (x < HALF ? 0 : 1);
                // Noise in [0, 0.6]; the labelled quadrant is lifted by 0.4, so pixels stay in [0, 1].
                float pixel = (float) (noise.nextDouble() * 0.6 + (quadrant == label ? 0.4 : 0.0));
                destination.setAtIndex(ValueLayout.JAVA_FLOAT, floatOffset + (long) y * SIDE + x, pixel);
            }
        }
    }

    @Override
    public String describe() {
        return "quadrants: " + size + " samples of " + sampleShape() + ", 4 classes";
    }

    private void check(int index) {
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("quadrants: index " + index + " outside [0, " + size + ")");
        }
    }
}
