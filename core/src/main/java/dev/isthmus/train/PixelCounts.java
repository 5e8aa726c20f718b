package dev.isthmus.train;

import dev.isthmus.device.Device;
import dev.isthmus.device.ReductionKernels;
import dev.isthmus.metric.DiceScore;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A segmentation's counts on the device (I32 [2 + 3·C], see
 * {@link ReductionKernels#countSegmentation}) and their long totals on the host. The device counts
 * are I32 like {@link DeviceCounter}'s; before a batch that could take one past 2^31 - 1 they are
 * folded into the totals and zeroed, so an epoch of any size counts exactly and the host waits only
 * then and once at the end. Nothing is allocated after construction.
 */
final class PixelCounts implements AutoCloseable {
    private final Device device;
    private final int classes;
    private final Tensor counts;
    private final int[] host;
    private final MemorySegment hostView;
    private final long[] totals;
    private final long[] intersections;
    private final long[] predictions;
    private final long[] labelled;
    private final DiceScore dice;
    /** Pixels added on the device since the last fold: a bound on every count there. */
    private long pending;
    /** The most pixels the device counts may hold before a fold: 2^31 - 1, lower in tests. */
    private final long foldAbove;

    PixelCounts(Device device, int classes) {
        this(device, classes, Integer.MAX_VALUE);
    }

    PixelCounts(Device device, int classes, long foldAbove) {
        this.device = device;
        this.foldAbove = foldAbove;
        this.classes = classes;
        int length = ReductionKernels.segmentationCountsLength(classes);
        this.counts = device.allocate(Shape.of(length), DType.I32);
        this.host = new int[length];
        this.hostView = MemorySegment.ofArray(host);
        this.totals = new long[length];
        this.intersections = new long[classes];
        this.predictions = new long[classes];
        this.labelled = new long[classes];
        this.dice = new DiceScore(Math.max(2, classes));
    }

    /** {@return the device counts a step adds to} */
    Tensor tensor() {
        return counts;
    }

    /** Zeroes the device counts and the totals. */
    void reset() {
        java.util.Arrays.fill(host, 0);
        device.copyFromHost(hostView, counts);
        java.util.Arrays.fill(totals, 0);
        pending = 0;
    }

    /**
     * Makes room for a batch of {@code pixels} labels: folds the device counts into the totals
     * first when they could pass 2^31 - 1 (waits for the device then).
     *
     * @param pixels the labels of the batch about to be counted
     */
    void reserve(long pixels) {
        if (pending + pixels > foldAbove) {
            fold();
        }
        pending += pixels;
    }

    /** Adds the device counts to the totals and zeroes them (waits for the device). */
    void fold() {
        device.copyToHost(counts, hostView);
        for (int i = 0; i < host.length; i++) {
            totals[i] += host[i];
        }
        java.util.Arrays.fill(host, 0);
        device.copyFromHost(hostView, counts);
        pending = 0;
    }

    /**
     * The totals after a {@link #fold()}: [correct, counted, intersection[C], predicted[C], labelled[C]].
     *
     * @return the totals, this object's own array
     */
    long[] totals() {
        return totals;
    }

    /** {@return the correct pixels over the counted ones (NaN when none counted)} */
    double pixelAccuracy() {
        return (double) totals[ReductionKernels.SEGMENTATION_CORRECT] / totals[ReductionKernels.SEGMENTATION_COUNTED];
    }

    /** {@return DiceScore's mean foreground Dice (class 0 the background) of the totals} */
    double dice() {
        if (classes < 2) {
            return Double.NaN;
        }
        System.arraycopy(totals, 2, intersections, 0, classes);
        System.arraycopy(totals, 2 + classes, predictions, 0, classes);
        System.arraycopy(totals, 2 + 2 * classes, labelled, 0, classes);
        dice.reset();
        dice.add(intersections, predictions, labelled);
        return dice.mean();
    }

    @Override
    public void close() {
        counts.close();
    }
}
