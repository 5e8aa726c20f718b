package dev.isthmus.device.cpu;

import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.device.Dims3;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * 3-D convolution as vol2col + GEMM, one clip at a time: {@link CpuConvolution}'s scheme with a
 * depth axis. The column matrix has one row per (input channel, kd, kh, kw) and one column per
 * output position. Volumes (rank 5) are always row-major (NCDHW) on the CPU.
 */
final class CpuConvolution3d extends Convolution3dPlan {
    private final CpuDevice cpu;
    private final int groupInChannels;
    private final int groupOutChannels;
    private final int columnRows;
    private final int spatial;
    private final Tensor columns;
    /** source[axis][k][o]: the input index that kernel tap k reads for output index o, or -1 in the padding. */
    private final int[][][] source;

    CpuConvolution3d(CpuDevice cpu, Conv3dGeometry geometry) {
        super(cpu, geometry);
        this.cpu = cpu;
        this.groupInChannels = geometry.inChannels() / geometry.groups();
        this.groupOutChannels = geometry.outChannels() / geometry.groups();
        this.columnRows = Math.toIntExact(groupInChannels * geometry.kernel().volume());
        this.spatial = Math.toIntExact(geometry.output().volume());
        this.columns = cpu.allocate(Shape.of(Math.toIntExact(geometry.inChannels() * geometry.kernel().volume()), spatial));
        this.source = new int[3][][];
        Dims3 out = geometry.output();
        for (int axis = 0; axis < 3; axis++) {
            source[axis] = new int[geometry.kernel().get(axis)][out.get(axis)];
            for (int k = 0; k < source[axis].length; k++) {
                for (int o = 0; o < out.get(axis); o++) {
                    source[axis][k][o] = source(o, k, axis, geometry);
                }
            }
        }
    }

    private long inputSize() {
        return geometry.inChannels() * geometry.input().volume();
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        long outputSize = (long) geometry.outChannels() * spatial;
        for (int n = 0; n < geometry.batch(); n++) {
            vol2col(x.memory(), n * inputSize());
            for (int g = 0; g < geometry.groups(); g++) {
                CpuBlas.sgemm(false, false, groupOutChannels, spatial, columnRows, 1f,
                        weight, (long) g * groupOutChannels * columnRows, columnRows,
                        columns, (long) g * columnRows * spatial, spatial,
                        0f, y, n * outputSize + (long) g * groupOutChannels * spatial, spatial);
            }
        }
        if (bias != null) {
            cpu.elementwise().addBias(y, bias);
        }
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        long outputSize = (long) geometry.outChannels() * spatial;
        for (int n = 0; n < geometry.batch(); n++) {
            for (int g = 0; g < geometry.groups(); g++) {
                CpuBlas.sgemm(true, false, columnRows, spatial, groupOutChannels, 1f,
                        weight, (long) g * groupOutChannels * columnRows, columnRows,
                        gradOutput, n * outputSize + (long) g * groupOutChannels * spatial, spatial,
                        0f, columns, (long) g * columnRows * spatial, spatial);
            }
            col2vol(gradInput.memory(), n * inputSize());
        }
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        if (biasGrad != null) {
            cpu.elementwise().biasGradient(gradOutput, biasGrad);
        }
        long outputSize = (long) geometry.outChannels() * spatial;
        for (int n = 0; n < geometry.batch(); n++) {
            vol2col(x.memory(), n * inputSize());
            for (int g = 0; g < geometry.groups(); g++) {
                CpuBlas.sgemm(false, true, groupOutChannels, columnRows, spatial, 1f,
                        gradOutput, n * outputSize + (long) g * groupOutChannels * spatial, spatial,
                        columns, (long) g * columnRows * spatial, spatial,
                        1f, weightGrad, (long) g * groupOutChannels * columnRows, columnRows);
            }
        }
    }

    /** The input position that column row (kd, kh, kw) reads for output position o along one axis, or -1 if padding. */
    private static int source(int o, int k, int axis, Conv3dGeometry g) {
        int i = o * g.stride().get(axis) - g.padding().get(axis) + k * g.dilation().get(axis);
        return i >= 0 && i < g.input().get(axis) ? i : -1;
    }

    /** Fills the column matrix from the clip starting at element {@code base} of x. */
    private void vol2col(MemorySegment clip, long base) {
        Conv3dGeometry g = geometry;
        Dims3 k = g.kernel();
        Dims3 in = g.input();
        Dims3 out = g.output();
        MemorySegment cols = columns.memory();
        int kernelVolume = Math.toIntExact(k.volume());
        cpu.parallel().forRange(g.inChannels() * kernelVolume, Math.max(1, 8192 / spatial), (from, to) -> {
            for (int row = from; row < to; row++) {
                int c = row / kernelVolume;
                int kd = row / (k.height() * k.width()) % k.depth();
                int kh = row / k.width() % k.height();
                int kw = row % k.width();
                long channelBase = base + c * in.volume();
                long at = (long) row * spatial;
                int[] depths = source[0][kd];
                int[] heights = source[1][kh];
                int[] widths = source[2][kw];
                int outWidth = out.width();
                for (int od = 0; od < out.depth(); od++) {
                    int id = depths[od];
                    for (int oh = 0; oh < out.height(); oh++, at += outWidth) {
                        int ih = heights[oh];
                        if (id < 0 || ih < 0) {
                            for (int ow = 0; ow < outWidth; ow++) {
                                cols.setAtIndex(JAVA_FLOAT, at + ow, 0f);
                            }
                            continue;
                        }
                        long inRow = channelBase + ((long) id * in.height() + ih) * in.width();
                        for (int ow = 0; ow < outWidth; ow++) {
                            int iw = widths[ow];
                            cols.setAtIndex(JAVA_FLOAT, at + ow, iw < 0 ? 0f : clip.getAtIndex(JAVA_FLOAT, inRow + iw));
                        }
                    }
                }
            }
        });
    }

    /** dx of one clip = every column entry summed back onto the input position it was copied from. */
    private void col2vol(MemorySegment gradClip, long base) {
        Conv3dGeometry g = geometry;
        Dims3 k = g.kernel();
        Dims3 in = g.input();
        Dims3 out = g.output();
        MemorySegment cols = columns.memory();
        int kernelVolume = Math.toIntExact(k.volume());
        // Split by input channel: each channel's rows write only that channel's volume.
        cpu.parallel().forRange(g.inChannels(), 1, (from, to) -> {
            for (int c = from; c < to; c++) {
                long channelBase = base + c * in.volume();
                for (long i = 0; i < in.volume(); i++) {
                    gradClip.setAtIndex(JAVA_FLOAT, channelBase + i, 0f);
                }
                for (int kernelAt = 0; kernelAt < kernelVolume; kernelAt++) {
                    int kd = kernelAt / (k.height() * k.width());
                    int kh = kernelAt / k.width() % k.height();
                    int kw = kernelAt % k.width();
                    long at = ((long) c * kernelVolume + kernelAt) * spatial;
                    int[] depths = source[0][kd];
                    int[] heights = source[1][kh];
                    int[] widths = source[2][kw];
                    int outWidth = out.width();
                    for (int od = 0; od < out.depth(); od++) {
                        int id = depths[od];
                        for (int oh = 0; oh < out.height(); oh++, at += outWidth) {
                            int ih = heights[oh];
                            if (id < 0 || ih < 0) {
                                continue;
                            }
                            long inRow = channelBase + ((long) id * in.height() + ih) * in.width();
                            for (int ow = 0; ow < outWidth; ow++) {
                                int iw = widths[ow];
                                if (iw >= 0) {
                                    gradClip.setAtIndex(JAVA_FLOAT, inRow + iw,
                                            gradClip.getAtIndex(JAVA_FLOAT, inRow + iw) + cols.getAtIndex(JAVA_FLOAT, at + ow));
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
        columns.close();
    }
}
