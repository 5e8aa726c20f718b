package dev.isthmus.device.cpu;

import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Moves rank-4 data between NCHW (row-major) and NHWC (channels-last) orders. Used for host
 * copies of channels-last tensors (the host always sees NCHW) and where a kernel meets tensors of
 * different layouts. Elements are moved as 32-bit words, so F32 and I32 alike.
 */
final class CpuLayouts {
    private CpuLayouts() {
    }

    /** Copies {@code shape}'s elements from {@code source} in one layout to {@code destination} in another. */
    static void convert(CpuParallel parallel, Shape shape, MemorySegment source, Layout sourceLayout,
                        MemorySegment destination, Layout destinationLayout) {
        // With one channel, or one pixel per channel, NCHW and NHWC are the same order.
        if (sourceLayout == destinationLayout || shape.dim(1) == 1 || (long) shape.dim(2) * shape.dim(3) == 1) {
            MemorySegment.copy(source, 0, destination, 0, shape.elementCount() * Integer.BYTES);
            return;
        }
        int batch = shape.dim(0);
        int channels = shape.dim(1);
        int height = shape.dim(2);
        int width = shape.dim(3);
        int plane = height * width;
        boolean toChannelsLast = destinationLayout == Layout.CHANNELS_LAST;
        // One task per (image, row): each writes a disjoint part of the destination.
        int tasks = batch * height;
        int grain = Math.max(1, 16384 / Math.max(1, width * channels));
        if (!parallel.worthSplitting(tasks, grain)) {
            convertRows(0, tasks, source, destination, channels, height, width, plane, toChannelsLast);
            return;
        }
        parallel.forRange(tasks, grain,
                (from, to) -> convertRows(from, to, source, destination, channels, height, width, plane, toChannelsLast));
    }

    private static void convertRows(int from, int to, MemorySegment source, MemorySegment destination, int channels, int height,
                                    int width, int plane, boolean toChannelsLast) {
        for (int task = from; task < to; task++) {
            int n = task / height;
            int h = task % height;
            long rowMajorBase = (long) n * channels * plane + (long) h * width;
            long channelsLastBase = ((long) n * plane + (long) h * width) * channels;
            for (int c = 0; c < channels; c++) {
                long rowMajor = rowMajorBase + (long) c * plane;
                for (int w = 0; w < width; w++) {
                    long channelsLast = channelsLastBase + (long) w * channels + c;
                    if (toChannelsLast) {
                        destination.setAtIndex(JAVA_INT, channelsLast, source.getAtIndex(JAVA_INT, rowMajor + w));
                    } else {
                        destination.setAtIndex(JAVA_INT, rowMajor + w, source.getAtIndex(JAVA_INT, channelsLast));
                    }
                }
            }
        }
    }
}
