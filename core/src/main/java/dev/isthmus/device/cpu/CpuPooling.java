package dev.isthmus.device.cpu;

import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Max and average pooling. Max pooling records the arg-max of each window (the first maximum,
 * as PyTorch picks) so that backward routes each gradient to exactly one input.
 */
final class CpuPooling extends PoolingPlan {
    private final CpuDevice cpu;
    private final CpuParallel parallel;
    private final Tensor argmax;

    CpuPooling(CpuDevice cpu, PoolGeometry geometry) {
        super(cpu, geometry);
        this.cpu = cpu;
        this.parallel = cpu.parallel();
        this.argmax = geometry.mode() == PoolMode.MAX ? cpu.allocate(geometry.outputShape(), DType.I32) : null;
    }

    // The loops index NCHW: tensors in another layout are converted on the way in and out.

    @Override
    protected void doForward(Tensor input, Tensor output) {
        Tensor x = cpu.scratch().inLayout(input, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor y = cpu.scratch().rowMajorResult(output);
        forwardRowMajor(x, y);
        cpu.scratch().store(y, output);
    }

    private void forwardRowMajor(Tensor x, Tensor y) {
        PoolGeometry g = geometry;
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment index = argmax == null ? null : argmax.memory();
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int planeIn = g.height() * g.width();
        int planeOut = outHeight * outWidth;
        parallel.forRange(g.batch() * g.channels(), Math.max(1, 4096 / planeOut), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long inBase = (long) plane * planeIn;
                long outBase = (long) plane * planeOut;
                for (int oy = 0; oy < outHeight; oy++) {
                    int y0 = oy * g.strideHeight() - g.padHeight();
                    int yStart = Math.max(y0, 0);
                    int yEnd = Math.min(y0 + g.kernelHeight(), g.height());
                    for (int ox = 0; ox < outWidth; ox++) {
                        int x0 = ox * g.strideWidth() - g.padWidth();
                        int xStart = Math.max(x0, 0);
                        int xEnd = Math.min(x0 + g.kernelWidth(), g.width());
                        long o = outBase + (long) oy * outWidth + ox;
                        if (index != null) {
                            float best = Float.NEGATIVE_INFINITY;
                            int bestAt = yStart * g.width() + xStart;
                            for (int iy = yStart; iy < yEnd; iy++) {
                                for (int ix = xStart; ix < xEnd; ix++) {
                                    float v = in.getAtIndex(JAVA_FLOAT, inBase + (long) iy * g.width() + ix);
                                    // NaN wins, as in PyTorch, so a NaN is never hidden by pooling.
                                    if (v > best || Float.isNaN(v)) {
                                        best = v;
                                        bestAt = iy * g.width() + ix;
                                        if (Float.isNaN(v)) {
                                            iy = yEnd;
                                            break;
                                        }
                                    }
                                }
                            }
                            out.setAtIndex(JAVA_FLOAT, o, best);
                            index.setAtIndex(JAVA_INT, o, bestAt);
                        } else {
                            double sum = 0;
                            for (int iy = yStart; iy < yEnd; iy++) {
                                for (int ix = xStart; ix < xEnd; ix++) {
                                    sum += in.getAtIndex(JAVA_FLOAT, inBase + (long) iy * g.width() + ix);
                                }
                            }
                            out.setAtIndex(JAVA_FLOAT, o, (float) (sum / divisor(y0, x0, yStart, yEnd, xStart, xEnd)));
                        }
                    }
                }
            }
        });
    }

    /** The window size that averages divide by. */
    private int divisor(int y0, int x0, int yStart, int yEnd, int xStart, int xEnd) {
        PoolGeometry g = geometry;
        if (g.mode() == PoolMode.AVERAGE_EXCLUDE_PADDING) {
            return (yEnd - yStart) * (xEnd - xStart);
        }
        // Padding counts, but not window positions beyond the padded input.
        int paddedYEnd = Math.min(y0 + g.kernelHeight(), g.height() + g.padHeight());
        int paddedXEnd = Math.min(x0 + g.kernelWidth(), g.width() + g.padWidth());
        return (paddedYEnd - y0) * (paddedXEnd - x0);
    }

    @Override
    protected void doBackward(Tensor x, Tensor y, Tensor upstream, Tensor result) {
        Tensor gradOutput = cpu.scratch().inLayout(upstream, Layout.ROW_MAJOR, CpuScratch.Slot.SECOND_INPUT);
        Tensor gradInput = cpu.scratch().rowMajorResult(result);
        backwardRowMajor(gradOutput, gradInput);
        cpu.scratch().store(gradInput, result);
    }

    private void backwardRowMajor(Tensor gradOutput, Tensor gradInput) {
        PoolGeometry g = geometry;
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        MemorySegment index = argmax == null ? null : argmax.memory();
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        int planeIn = g.height() * g.width();
        int planeOut = outHeight * outWidth;
        parallel.forRange(g.batch() * g.channels(), Math.max(1, 4096 / planeOut), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long inBase = (long) plane * planeIn;
                long outBase = (long) plane * planeOut;
                for (int i = 0; i < planeIn; i++) {
                    dx.setAtIndex(JAVA_FLOAT, inBase + i, 0f);
                }
                for (int oy = 0; oy < outHeight; oy++) {
                    int y0 = oy * g.strideHeight() - g.padHeight();
                    int yStart = Math.max(y0, 0);
                    int yEnd = Math.min(y0 + g.kernelHeight(), g.height());
                    for (int ox = 0; ox < outWidth; ox++) {
                        long o = outBase + (long) oy * outWidth + ox;
                        float grad = dy.getAtIndex(JAVA_FLOAT, o);
                        if (index != null) {
                            long at = inBase + index.getAtIndex(JAVA_INT, o);
                            dx.setAtIndex(JAVA_FLOAT, at, dx.getAtIndex(JAVA_FLOAT, at) + grad);
                            continue;
                        }
                        int x0 = ox * g.strideWidth() - g.padWidth();
                        int xStart = Math.max(x0, 0);
                        int xEnd = Math.min(x0 + g.kernelWidth(), g.width());
                        float share = grad / divisor(y0, x0, yStart, yEnd, xStart, xEnd);
                        for (int iy = yStart; iy < yEnd; iy++) {
                            for (int ix = xStart; ix < xEnd; ix++) {
                                long at = inBase + (long) iy * g.width() + ix;
                                dx.setAtIndex(JAVA_FLOAT, at, dx.getAtIndex(JAVA_FLOAT, at) + share);
                            }
                        }
                    }
                }
            }
        });
    }

    @Override
    public void close() {
        if (argmax != null) {
            argmax.close();
        }
    }
}
