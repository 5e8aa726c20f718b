package dev.isthmus.device.cpu;

import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Convolution as im2col + GEMM, one image at a time, as Caffe does. For image n and group g:
 * <pre>
 *   columns   = im2col(x[n])                       [C/G·kh·kw, OH·OW]
 *   y[n]      = W_g · columns (+ bias)             [O/G, OH·OW]     forward
 *   dW_g     += dy[n]_g · columnsᵀ                                 backward filter
 *   dx[n]     = col2im(W_gᵀ · dy[n]_g)                             backward data
 * </pre>
 * NCHW makes y[n] exactly the GEMM's row-major output, so nothing is transposed. A 1×1 kernel
 * with stride 1 and no padding uses x[n] itself as the column matrix.
 */
final class CpuConvolution extends ConvolutionPlan {
    private final CpuDevice cpu;
    private final boolean pointwise;
    private final int groupInChannels;
    private final int groupOutChannels;
    private final int columnRows;
    private final int spatial;
    private final Tensor columns;

    CpuConvolution(CpuDevice cpu, ConvGeometry geometry) {
        super(cpu, geometry);
        this.cpu = cpu;
        this.groupInChannels = geometry.inChannels() / geometry.groups();
        this.groupOutChannels = geometry.outChannels() / geometry.groups();
        this.columnRows = groupInChannels * geometry.kernelHeight() * geometry.kernelWidth();
        this.spatial = geometry.outHeight() * geometry.outWidth();
        this.pointwise = geometry.kernelHeight() == 1 && geometry.kernelWidth() == 1
                && geometry.strideHeight() == 1 && geometry.strideWidth() == 1
                && geometry.padHeight() == 0 && geometry.padWidth() == 0;
        this.columns = pointwise ? null : cpu.allocate(Shape.of(geometry.inChannels() * geometry.kernelHeight()
                * geometry.kernelWidth(), spatial));
    }

    // im2col indexes NCHW: tensors in another layout are converted on the way in and out.

    @Override
    protected void doForward(Tensor input, Tensor weight, Tensor bias, Tensor output) {
        Tensor x = cpu.scratch().inLayout(input, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor y = cpu.scratch().rowMajorResult(output);
        int inputSize = geometry.inChannels() * geometry.height() * geometry.width();
        int outputSize = geometry.outChannels() * spatial;
        for (int n = 0; n < geometry.batch(); n++) {
            Tensor cols = columnsOf(x, (long) n * inputSize);
            long colsBase = pointwise ? (long) n * inputSize : 0;
            for (int g = 0; g < geometry.groups(); g++) {
                CpuBlas.sgemm(false, false, groupOutChannels, spatial, columnRows, 1f,
                        weight, (long) g * groupOutChannels * columnRows, columnRows,
                        cols, colsBase + (long) g * columnRows * spatial, spatial,
                        0f, y, (long) n * outputSize + (long) g * groupOutChannels * spatial, spatial);
            }
        }
        if (bias != null) {
            cpu.elementwise().addBias(y, bias);
        }
        cpu.scratch().store(y, output);
    }

    @Override
    protected void doBackwardData(Tensor upstream, Tensor weight, Tensor result) {
        Tensor gradOutput = cpu.scratch().inLayout(upstream, Layout.ROW_MAJOR, CpuScratch.Slot.SECOND_INPUT);
        Tensor gradInput = cpu.scratch().rowMajorResult(result);
        int inputSize = geometry.inChannels() * geometry.height() * geometry.width();
        int outputSize = geometry.outChannels() * spatial;
        for (int n = 0; n < geometry.batch(); n++) {
            // The column gradient goes straight into dx when im2col is the identity.
            Tensor target = pointwise ? gradInput : columns;
            long targetBase = pointwise ? (long) n * inputSize : 0;
            for (int g = 0; g < geometry.groups(); g++) {
                CpuBlas.sgemm(true, false, columnRows, spatial, groupOutChannels, 1f,
                        weight, (long) g * groupOutChannels * columnRows, columnRows,
                        gradOutput, (long) n * outputSize + (long) g * groupOutChannels * spatial, spatial,
                        0f, target, targetBase + (long) g * columnRows * spatial, spatial);
            }
            if (!pointwise) {
                col2im(gradInput.memory(), (long) n * inputSize);
            }
        }
        cpu.scratch().store(gradInput, result);
    }

    @Override
    protected void doBackwardFilter(Tensor input, Tensor upstream, Tensor weightGrad, Tensor biasGrad) {
        if (biasGrad != null) {
            cpu.elementwise().biasGradient(upstream, biasGrad);
        }
        Tensor x = cpu.scratch().inLayout(input, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT);
        Tensor gradOutput = cpu.scratch().inLayout(upstream, Layout.ROW_MAJOR, CpuScratch.Slot.SECOND_INPUT);
        int inputSize = geometry.inChannels() * geometry.height() * geometry.width();
        int outputSize = geometry.outChannels() * spatial;
        for (int n = 0; n < geometry.batch(); n++) {
            Tensor cols = columnsOf(x, (long) n * inputSize);
            long colsBase = pointwise ? (long) n * inputSize : 0;
            for (int g = 0; g < geometry.groups(); g++) {
                CpuBlas.sgemm(false, true, groupOutChannels, columnRows, spatial, 1f,
                        gradOutput, (long) n * outputSize + (long) g * groupOutChannels * spatial, spatial,
                        cols, colsBase + (long) g * columnRows * spatial, spatial,
                        1f, weightGrad, (long) g * groupOutChannels * columnRows, columnRows);
            }
        }
    }

    /** The column matrix of the image starting at element {@code imageBase} of x. */
    private Tensor columnsOf(Tensor x, long imageBase) {
        if (pointwise) {
            return x;
        }
        im2col(x.memory(), imageBase, columns.memory());
        return columns;
    }

    private void im2col(MemorySegment image, long imageBase, MemorySegment cols) {
        ConvGeometry g = geometry;
        int kh = g.kernelHeight();
        int kw = g.kernelWidth();
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        cpu.parallel().forRange(g.inChannels() * kh * kw, Math.max(1, 8192 / spatial), (from, to) -> {
            for (int row = from; row < to; row++) {
                int c = row / (kh * kw);
                int ki = row / kw % kh;
                int kj = row % kw;
                long colBase = (long) row * spatial;
                long channelBase = imageBase + (long) c * g.height() * g.width();
                for (int oy = 0; oy < outHeight; oy++) {
                    int iy = oy * g.strideHeight() - g.padHeight() + ki * g.dilationHeight();
                    long outRow = colBase + (long) oy * outWidth;
                    if (iy < 0 || iy >= g.height()) {
                        for (int ox = 0; ox < outWidth; ox++) {
                            cols.setAtIndex(JAVA_FLOAT, outRow + ox, 0f);
                        }
                        continue;
                    }
                    long inRow = channelBase + (long) iy * g.width();
                    for (int ox = 0; ox < outWidth; ox++) {
                        int ix = ox * g.strideWidth() - g.padWidth() + kj * g.dilationWidth();
                        cols.setAtIndex(JAVA_FLOAT, outRow + ox,
                                ix >= 0 && ix < g.width() ? image.getAtIndex(JAVA_FLOAT, inRow + ix) : 0f);
                    }
                }
            }
        });
    }

    /** dx[n] = the sum of every column entry back onto the input position it was copied from. */
    private void col2im(MemorySegment gradImage, long imageBase) {
        ConvGeometry g = geometry;
        int kh = g.kernelHeight();
        int kw = g.kernelWidth();
        int outHeight = g.outHeight();
        int outWidth = g.outWidth();
        MemorySegment cols = columns.memory();
        // Split by input channel: each channel's rows write only that channel's plane.
        cpu.parallel().forRange(g.inChannels(), 1, (from, to) -> {
            for (int c = from; c < to; c++) {
                long channelBase = imageBase + (long) c * g.height() * g.width();
                for (long i = 0; i < (long) g.height() * g.width(); i++) {
                    gradImage.setAtIndex(JAVA_FLOAT, channelBase + i, 0f);
                }
                for (int k = 0; k < kh * kw; k++) {
                    int ki = k / kw;
                    int kj = k % kw;
                    long colBase = ((long) c * kh * kw + k) * spatial;
                    for (int oy = 0; oy < outHeight; oy++) {
                        int iy = oy * g.strideHeight() - g.padHeight() + ki * g.dilationHeight();
                        if (iy < 0 || iy >= g.height()) {
                            continue;
                        }
                        long inRow = channelBase + (long) iy * g.width();
                        long outRow = colBase + (long) oy * outWidth;
                        for (int ox = 0; ox < outWidth; ox++) {
                            int ix = ox * g.strideWidth() - g.padWidth() + kj * g.dilationWidth();
                            if (ix >= 0 && ix < g.width()) {
                                gradImage.setAtIndex(JAVA_FLOAT, inRow + ix,
                                        gradImage.getAtIndex(JAVA_FLOAT, inRow + ix) + cols.getAtIndex(JAVA_FLOAT, outRow + ox));
                            }
                        }
                    }
                }
            }
        });
    }

    @Override
    public void close() {
        if (columns != null) {
            columns.close();
        }
    }
}
