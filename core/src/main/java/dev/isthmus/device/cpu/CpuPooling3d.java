package dev.isthmus.device.cpu;

import dev.isthmus.device.Dims3;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.Pooling3dPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Max and average pooling over NCDHW volumes in Java, written as PyTorch's CPU kernels are: max
 * pooling keeps the arg-max of each window (the first maximum; a NaN wins) for the backward pass;
 * average pooling divides by the window clipped to the padded input (count_include_pad) or to the
 * input (not), which is what differs from oneDNN when a ceil-mode window overhangs the padding.
 */
final class CpuPooling3d extends Pooling3dPlan {
    private final CpuParallel parallel;
    private final Tensor argmax;
    private final Dims3 in;
    private final Dims3 out;

    CpuPooling3d(CpuDevice cpu, Pool3dGeometry geometry) {
        super(cpu, geometry);
        this.parallel = cpu.parallel();
        this.in = geometry.input();
        this.out = geometry.output();
        this.argmax = geometry.mode() == PoolMode.MAX ? cpu.allocate(geometry.outputShape(), DType.I32) : null;
    }

    /** One window along one axis: where it starts (may be in the padding) and its clipped ends. */
    private int start(int o, int axis) {
        return o * geometry.stride().get(axis) - geometry.padding().get(axis);
    }

    private int end(int start, int axis) {
        return Math.min(start + geometry.kernel().get(axis), in.get(axis));
    }

    /** PyTorch's divisor: the window within the padded input, or within the input only. */
    private int divisor(int d0, int h0, int w0) {
        if (geometry.mode() == PoolMode.AVERAGE_EXCLUDE_PADDING) {
            return (end(d0, 0) - Math.max(d0, 0)) * (end(h0, 1) - Math.max(h0, 0)) * (end(w0, 2) - Math.max(w0, 0));
        }
        int size = 1;
        int[] starts = {d0, h0, w0};
        for (int axis = 0; axis < 3; axis++) {
            int paddedEnd = Math.min(starts[axis] + geometry.kernel().get(axis), in.get(axis) + geometry.padding().get(axis));
            size *= paddedEnd - starts[axis];
        }
        return size;
    }

    private int grain() {
        return Math.max(1, Math.toIntExact(4096 / Math.max(1, out.volume())));
    }

    @Override
    protected void doForward(Tensor x, Tensor y) {
        MemorySegment src = x.memory();
        MemorySegment dst = y.memory();
        MemorySegment index = argmax == null ? null : argmax.memory();
        long volumeIn = in.volume();
        long volumeOut = out.volume();
        parallel.forRange(geometry.batch() * geometry.channels(), grain(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long inBase = plane * volumeIn;
                long o = plane * volumeOut;
                for (int od = 0; od < out.depth(); od++) {
                    int d0 = start(od, 0);
                    for (int oh = 0; oh < out.height(); oh++) {
                        int h0 = start(oh, 1);
                        for (int ow = 0; ow < out.width(); ow++, o++) {
                            int w0 = start(ow, 2);
                            if (index != null) {
                                maxWindow(src, dst, index, inBase, o, d0, h0, w0);
                            } else {
                                double sum = 0;
                                for (int d = Math.max(d0, 0); d < end(d0, 0); d++) {
                                    for (int h = Math.max(h0, 0); h < end(h0, 1); h++) {
                                        long row = inBase + ((long) d * in.height() + h) * in.width();
                                        for (int w = Math.max(w0, 0); w < end(w0, 2); w++) {
                                            sum += src.getAtIndex(JAVA_FLOAT, row + w);
                                        }
                                    }
                                }
                                dst.setAtIndex(JAVA_FLOAT, o, (float) (sum / divisor(d0, h0, w0)));
                            }
                        }
                    }
                }
            }
        });
    }

    private void maxWindow(MemorySegment src, MemorySegment dst, MemorySegment index, long inBase, long o,
                           int d0, int h0, int w0) {
        float best = Float.NEGATIVE_INFINITY;
        int bestAt = (Math.max(d0, 0) * in.height() + Math.max(h0, 0)) * in.width() + Math.max(w0, 0);
        search:
        for (int d = Math.max(d0, 0); d < end(d0, 0); d++) {
            for (int h = Math.max(h0, 0); h < end(h0, 1); h++) {
                for (int w = Math.max(w0, 0); w < end(w0, 2); w++) {
                    int at = (d * in.height() + h) * in.width() + w;
                    float v = src.getAtIndex(JAVA_FLOAT, inBase + at);
                    // NaN wins, as in PyTorch, so a NaN is never hidden by pooling.
                    if (v > best || Float.isNaN(v)) {
                        best = v;
                        bestAt = at;
                        if (Float.isNaN(v)) {
                            break search;
                        }
                    }
                }
            }
        }
        dst.setAtIndex(JAVA_FLOAT, o, best);
        index.setAtIndex(JAVA_INT, o, bestAt);
    }

    @Override
    protected void doBackward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        MemorySegment index = argmax == null ? null : argmax.memory();
        long volumeIn = in.volume();
        long volumeOut = out.volume();
        parallel.forRange(geometry.batch() * geometry.channels(), grain(), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                long inBase = plane * volumeIn;
                for (long i = 0; i < volumeIn; i++) {
                    dx.setAtIndex(JAVA_FLOAT, inBase + i, 0f);
                }
                long o = plane * volumeOut;
                for (int od = 0; od < out.depth(); od++) {
                    int d0 = start(od, 0);
                    for (int oh = 0; oh < out.height(); oh++) {
                        int h0 = start(oh, 1);
                        for (int ow = 0; ow < out.width(); ow++, o++) {
                            float grad = dy.getAtIndex(JAVA_FLOAT, o);
                            if (index != null) {
                                long at = inBase + index.getAtIndex(JAVA_INT, o);
                                dx.setAtIndex(JAVA_FLOAT, at, dx.getAtIndex(JAVA_FLOAT, at) + grad);
                                continue;
                            }
                            int w0 = start(ow, 2);
                            float share = grad / divisor(d0, h0, w0);
                            for (int d = Math.max(d0, 0); d < end(d0, 0); d++) {
                                for (int h = Math.max(h0, 0); h < end(h0, 1); h++) {
                                    long row = inBase + ((long) d * in.height() + h) * in.width();
                                    for (int w = Math.max(w0, 0); w < end(w0, 2); w++) {
                                        dx.setAtIndex(JAVA_FLOAT, row + w, dx.getAtIndex(JAVA_FLOAT, row + w) + share);
                                    }
                                }
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
