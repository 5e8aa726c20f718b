package dev.isthmus.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Per-channel normalisation applied after scaling to [0, 1]: {@code (x - mean[c]) / std[c]}, the
 * same arithmetic (a subtraction, then a division) as torchvision's {@code Normalize}.
 *
 * @param mean the mean
 * @param std the standard deviation
 */
public record Normalization(float[] mean, float[] std) {
    /** Checks that mean and std have one positive-std entry per channel. */
    public Normalization {
        if (mean == null || std == null || mean.length == 0 || mean.length != std.length) {
            throw new IllegalArgumentException("Normalization: mean and std need one value per channel, got "
                    + Arrays.toString(mean) + " and " + Arrays.toString(std));
        }
        mean = mean.clone();
        std = std.clone();
        for (int channel = 0; channel < mean.length; channel++) {
            if (!Float.isFinite(mean[channel])) {
                throw new IllegalArgumentException("Normalization: mean " + mean[channel] + " of channel " + channel
                        + " is not finite");
            }
            if (!(std[channel] > 0) || !Float.isFinite(std[channel])) {
                throw new IllegalArgumentException("Normalization: std " + std[channel] + " of channel " + channel
                        + " must be finite and > 0");
            }
        }
    }

    /** {@return the number of channels} */
    public int channels() {
        return mean.length;
    }

    /** {@return a copy of the per-channel means} */
    @Override
    public float[] mean() {
        return mean.clone();
    }

    /** {@return a copy of the per-channel standard deviations} */
    @Override
    public float[] std() {
        return std.clone();
    }

    /**
     * Normalises one sample in place: channel c of the {@link #channels()}·{@code plane} floats
     * (CHW) at element {@code floatOffset} of {@code samples} becomes (x − mean[c]) / std[c].
     *
     * @param samples the samples
     * @param floatOffset the element (not byte) where the sample starts
     * @param plane H·W, the elements of one channel
     */
    public void apply(MemorySegment samples, long floatOffset, int plane) {
        if (samples == null || plane < 1 || floatOffset < 0
                || floatOffset > samples.byteSize() / Float.BYTES - (long) plane * mean.length) {
            throw new IllegalArgumentException("Normalization: a sample of " + mean.length + "x" + plane
                    + " floats at element offset " + floatOffset + " does not fit "
                    + (samples == null ? "a null segment" : samples.byteSize() / Float.BYTES + " floats"));
        }
        for (int channel = 0; channel < mean.length; channel++) {
            float channelMean = mean[channel];
            float channelStd = std[channel];
            long start = floatOffset + (long) channel * plane;
            for (long i = start; i < start + plane; i++) {
                samples.setAtIndex(ValueLayout.JAVA_FLOAT, i, (samples.getAtIndex(ValueLayout.JAVA_FLOAT, i) - channelMean) / channelStd);
            }
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Normalization that && Arrays.equals(mean, that.mean) && Arrays.equals(std, that.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalization[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
