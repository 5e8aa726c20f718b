package dev.isthmus.data;

import dev.isthmus.random.CounterRng;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Generated images that need no files: sample {@code i} of a generator is a pure function of
 * (seed, i), computed on every read, so any size costs no memory. Each class has its own random
 * template; a sample is its class's template blended half and half with per-pixel noise and
 * quantised to bytes like a real image, so a model can learn the classes (useful for benchmarks
 * and quick tests) but not from any single pixel.
 *
 * <p>Two datasets with the same seed, shape and classes share templates, so a training set and
 * a test set are disjoint index ranges of one generator ({@code firstIndex}).
 */
public final class SyntheticDataset implements Dataset {
    /** Independent streams of the one seed, so labels, templates and noise are uncorrelated. */
    private static final long LABEL_STREAM = 1;
    private static final long TEMPLATE_STREAM = 2;
    private static final long NOISE_STREAM = 3;

    private final Shape sampleShape;
    private final int sampleFloats;
    private final int classes;
    private final int size;
    private final long seed;
    private final long firstIndex;
    private final long labelSeed;
    private final long templateSeed;
    private final long noiseSeed;

    /**
     * {@code size} samples of the generator for {@code seed}, from its first.
     *
     * @param sampleShape the shape of one sample, [C, H, W]
     * @param classes the number of classes
     * @param size the number of samples
     * @param seed the seed
     */
    public SyntheticDataset(Shape sampleShape, int classes, int size, long seed) {
        this(sampleShape, classes, size, seed, 0);
    }

    /**
     * Samples {@code firstIndex} to {@code firstIndex + size - 1} of the generator for {@code seed}.
     *
     * @param sampleShape the shape of one sample, [C, H, W]
     * @param classes the number of classes
     * @param size the number of samples
     * @param seed the seed
     * @param firstIndex the generator's index of the first sample
     */
    public SyntheticDataset(Shape sampleShape, int classes, int size, long seed, long firstIndex) {
        if (sampleShape == null || sampleShape.rank() != 3 || sampleShape.elementCount() == 0) {
            throw new IllegalArgumentException("SyntheticDataset: sample shape must be a non-empty "
                    + "[channels, height, width], got " + sampleShape);
        }
        if (classes < 1) {
            throw new IllegalArgumentException("SyntheticDataset: classes must be >= 1, got " + classes);
        }
        if (size < 0) {
            throw new IllegalArgumentException("SyntheticDataset: size must be >= 0, got " + size);
        }
        if (firstIndex < 0) {
            throw new IllegalArgumentException("SyntheticDataset: first index must be >= 0, got " + firstIndex);
        }
        this.sampleShape = sampleShape;
        this.sampleFloats = (int) sampleShape.elementCount();
        this.classes = classes;
        this.size = size;
        this.seed = seed;
        this.firstIndex = firstIndex;
        this.labelSeed = CounterRng.mix(seed, LABEL_STREAM, 0);
        this.templateSeed = CounterRng.mix(seed, TEMPLATE_STREAM, 0);
        this.noiseSeed = CounterRng.mix(seed, NOISE_STREAM, 0);
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
        return labelOf(firstIndex + index);
    }

    private int labelOf(long sample) {
        // The high 32 bits scaled to [0, classes): exact integer arithmetic, never classes itself.
        return (int) (((CounterRng.mix(labelSeed, 0, sample) >>> 32) * classes) >>> 32);
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        SampleChecks.index(this, index);
        SampleChecks.destination(this, destination, floatOffset, sampleFloats);
        long sample = firstIndex + index;
        int label = labelOf(sample);
        for (int pixel = 0; pixel < sampleFloats; pixel++) {
            float template = CounterRng.uniform(templateSeed, label, pixel);
            float noise = CounterRng.uniform(noiseSeed, sample, pixel);
            int value = (int) (255f * (0.5f * template + 0.5f * noise));
            destination.setAtIndex(ValueLayout.JAVA_FLOAT, floatOffset + pixel, Pixels.toUnit(value));
        }
    }

    @Override
    public String describe() {
        return "synthetic(seed " + seed + ")[" + firstIndex + ":" + (firstIndex + size) + "]: " + size
                + " samples of " + sampleShape + ", " + classes + " classes";
    }

    @Override
    public String toString() {
        return describe();
    }
}
