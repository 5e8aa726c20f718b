package dev.isthmus.device.cpu;

import dev.isthmus.device.ElementwiseKernels;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.HalfFloats;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** The CPU's element-wise family in Java loops split over the cores: fill, add, mul, bias and its gradient. */
class CpuElementwise implements ElementwiseKernels.Backend {
    final CpuParallel parallel;
    final CpuScratch scratch;

    CpuElementwise(CpuParallel parallel, CpuScratch scratch) {
        this.parallel = parallel;
        this.scratch = scratch;
    }

    @Override
    public void fill(Tensor tensor, float value) {
        MemorySegment memory = tensor.memory();
        if (Float.floatToRawIntBits(value) == 0) {
            memory.fill((byte) 0);
            return;
        }
        int count = (int) tensor.elementCount();
        parallel.forRange(count, CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                memory.setAtIndex(JAVA_FLOAT, i, value);
            }
        });
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        MemorySegment l = scratch.inLayout(a, out.layout(), CpuScratch.Slot.FIRST_INPUT).memory();
        MemorySegment r = scratch.inLayout(b, out.layout(), CpuScratch.Slot.SECOND_INPUT).memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) out.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(JAVA_FLOAT, i, l.getAtIndex(JAVA_FLOAT, i) + r.getAtIndex(JAVA_FLOAT, i));
            }
        });
    }

    /** The ReLU is the activation kernel's: {@code v > 0 ? v : 0}. */
    @Override
    public void addRelu(Tensor a, Tensor b, Tensor out) {
        MemorySegment l = scratch.inLayout(a, out.layout(), CpuScratch.Slot.FIRST_INPUT).memory();
        MemorySegment r = scratch.inLayout(b, out.layout(), CpuScratch.Slot.SECOND_INPUT).memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) out.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = l.getAtIndex(JAVA_FLOAT, i) + r.getAtIndex(JAVA_FLOAT, i);
                result.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : 0f);
            }
        });
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        MemorySegment l = scratch.inLayout(a, out.layout(), CpuScratch.Slot.FIRST_INPUT).memory();
        MemorySegment r = scratch.inLayout(b, out.layout(), CpuScratch.Slot.SECOND_INPUT).memory();
        MemorySegment result = out.memory();
        parallel.forRange((int) out.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                result.setAtIndex(JAVA_FLOAT, i, l.getAtIndex(JAVA_FLOAT, i) * r.getAtIndex(JAVA_FLOAT, i));
            }
        });
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        MemorySegment out = y.memory();
        MemorySegment b = bias.memory();
        int outer = y.shape().dim(0);
        int channels = y.shape().dim(1);
        int inner = innerSize(y);
        boolean channelsLast = y.layout() == Layout.CHANNELS_LAST;
        int rows = channelsLast ? outer * inner : outer * channels;
        int rowLength = channelsLast ? channels : inner;
        if (!parallel.worthSplitting(rows, grain(rowLength))) {
            addBias(0, rows, out, b, channels, rowLength, channelsLast);
            return;
        }
        parallel.forRange(rows, grain(rowLength), (from, to) -> addBias(from, to, out, b, channels, rowLength, channelsLast));
    }

    /**
     * Row-major rows are one channel's plane (one bias value each); channels-last rows are one
     * position's channels (the whole bias vector).
     */
    private static void addBias(int from, int to, MemorySegment out, MemorySegment b, int channels, int rowLength,
                                boolean channelsLast) {
        for (int row = from; row < to; row++) {
            long base = (long) row * rowLength;
            if (channelsLast) {
                for (int c = 0; c < channels; c++) {
                    out.setAtIndex(JAVA_FLOAT, base + c, out.getAtIndex(JAVA_FLOAT, base + c) + b.getAtIndex(JAVA_FLOAT, c));
                }
            } else {
                float value = b.getAtIndex(JAVA_FLOAT, row % channels);
                for (int i = 0; i < rowLength; i++) {
                    out.setAtIndex(JAVA_FLOAT, base + i, out.getAtIndex(JAVA_FLOAT, base + i) + value);
                }
            }
        }
    }

    @Override
    public void biasGradient(Tensor gradOutput, Tensor biasGrad) {
        MemorySegment dy = gradOutput.memory();
        MemorySegment db = biasGrad.memory();
        int outer = gradOutput.shape().dim(0);
        int channels = gradOutput.shape().dim(1);
        int inner = innerSize(gradOutput);
        if (gradOutput.layout() == Layout.CHANNELS_LAST) {
            channelsLastBiasGradient(dy, db, outer * inner, channels);
            return;
        }
        int grain = Math.max(1, CpuDevice.MIN_PARALLEL_ELEMENTS / Math.max(1, outer * inner));
        if (!parallel.worthSplitting(channels, grain)) {
            biasGradient(0, channels, dy, db, outer, channels, inner);
            return;
        }
        parallel.forRange(channels, grain, (from, to) -> biasGradient(from, to, dy, db, outer, channels, inner));
    }

    private static void biasGradient(int from, int to, MemorySegment dy, MemorySegment db, int outer, int channels, int inner) {
        for (int c = from; c < to; c++) {
            double sum = 0;
            for (int n = 0; n < outer; n++) {
                long base = ((long) n * channels + c) * inner;
                for (int i = 0; i < inner; i++) {
                    sum += dy.getAtIndex(JAVA_FLOAT, base + i);
                }
            }
            db.setAtIndex(JAVA_FLOAT, c, (float) (db.getAtIndex(JAVA_FLOAT, c) + sum));
        }
    }

    /** Per-chunk partial sums (one row per thread), kept between calls so a step allocates nothing. */
    private double[][] partialSums = new double[0][];

    /** Σ over positions of channels-last rows: each thread sums its run of positions, then the rows are added in order. */
    private void channelsLastBiasGradient(MemorySegment dy, MemorySegment db, int positions, int channels) {
        int threads = parallel.threads();
        if (partialSums.length < threads || partialSums[0].length < channels) {
            partialSums = new double[threads][channels];
        }
        double[][] sums = partialSums;
        int chunk = (positions + threads - 1) / threads;
        if ((long) positions * channels < CpuDevice.MIN_PARALLEL_ELEMENTS) {
            for (int t = 0; t < threads; t++) {
                sumPositions(t, chunk, positions, channels, dy, sums[t]);
            }
        } else {
            parallel.forRange(threads, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    sumPositions(t, chunk, positions, channels, dy, sums[t]);
                }
            });
        }
        for (int c = 0; c < channels; c++) {
            double total = 0;
            for (int t = 0; t < threads; t++) {
                total += sums[t][c];
            }
            db.setAtIndex(JAVA_FLOAT, c, (float) (db.getAtIndex(JAVA_FLOAT, c) + total));
        }
    }

    /** Thread t's share of the channels-last bias gradient: positions [t·chunk, (t+1)·chunk). */
    private static void sumPositions(int t, int chunk, int positions, int channels, MemorySegment dy, double[] row) {
        java.util.Arrays.fill(row, 0, channels, 0);
        int end = Math.min(positions, (t + 1) * chunk);
        for (int position = t * chunk; position < end; position++) {
            long base = (long) position * channels;
            for (int c = 0; c < channels; c++) {
                row[c] += dy.getAtIndex(JAVA_FLOAT, base + c);
            }
        }
    }

    @Override
    public void convert(Tensor from, Tensor to) {
        MemorySegment source = scratch.inLayout(from, to.layout(), CpuScratch.Slot.FIRST_INPUT).memory();
        MemorySegment destination = to.memory();
        boolean bf16 = from.dtype() == DType.BF16 || to.dtype() == DType.BF16;
        if (from.dtype() == DType.F32) {
            parallel.forRange((int) from.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (start, end) -> {
                for (int i = start; i < end; i++) {
                    float value = source.getAtIndex(JAVA_FLOAT, i);
                    destination.setAtIndex(JAVA_SHORT, i, bf16 ? HalfFloats.toBf16(value) : HalfFloats.toF16(value));
                }
            });
        } else {
            parallel.forRange((int) from.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (start, end) -> {
                for (int i = start; i < end; i++) {
                    short bits = source.getAtIndex(JAVA_SHORT, i);
                    destination.setAtIndex(JAVA_FLOAT, i, bf16 ? HalfFloats.fromBf16(bits) : HalfFloats.fromF16(bits));
                }
            });
        }
    }

    /** The product of the dimensions after [N, C]. */
    static int innerSize(Tensor t) {
        int inner = 1;
        for (int axis = 2; axis < t.shape().rank(); axis++) {
            inner *= t.shape().dim(axis);
        }
        return inner;
    }

    private static int grain(int inner) {
        return Math.max(1, CpuDevice.MIN_PARALLEL_ELEMENTS / Math.max(1, inner));
    }

    /**
     * Row-major tensors hold each sample's channel run as one contiguous block, channels-last ones
     * each position's run: both copy as blocks; a mix of layouts goes element by element.
     */
    @Override
    public void copyChannels(Tensor from, int fromStart, Tensor to, int toStart, int channels) {
        MemorySegment source = from.memory();
        MemorySegment destination = to.memory();
        int batch = from.shape().dim(0);
        int fromChannels = from.shape().dim(1);
        int toChannels = to.shape().dim(1);
        long inner = innerSize(from);
        long bytes = from.dtype().byteSize();
        boolean fromLast = from.layout() == Layout.CHANNELS_LAST;
        boolean toLast = to.layout() == Layout.CHANNELS_LAST;
        if (!fromLast && !toLast) {
            for (int n = 0; n < batch; n++) {
                MemorySegment.copy(source, (((long) n * fromChannels + fromStart) * inner) * bytes, destination,
                        (((long) n * toChannels + toStart) * inner) * bytes, (long) channels * inner * bytes);
            }
        } else if (fromLast && toLast) {
            for (long position = 0; position < batch * inner; position++) {
                MemorySegment.copy(source, (position * fromChannels + fromStart) * bytes, destination,
                        (position * toChannels + toStart) * bytes, (long) channels * bytes);
            }
        } else {
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < channels; c++) {
                    for (long k = 0; k < inner; k++) {
                        long read = fromLast ? ((long) n * inner + k) * fromChannels + fromStart + c
                                : ((long) n * fromChannels + fromStart + c) * inner + k;
                        long write = toLast ? ((long) n * inner + k) * toChannels + toStart + c
                                : ((long) n * toChannels + toStart + c) * inner + k;
                        destination.setAtIndex(JAVA_FLOAT, write, source.getAtIndex(JAVA_FLOAT, read));
                    }
                }
            }
        }
    }
}
