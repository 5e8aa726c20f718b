package dev.isthmus.device.cpu;

import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.Pooling3dPlan;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.MemorySegment;

/**
 * oneDNN (Debian's libdnnl2): convolution, pooling, batch norm, activations, additions and GEMM as
 * oneDNN primitives on its OpenMP threads, with image activations channels-last, the layout its
 * AVX-512 kernels run fastest on.
 */
final class DnnlEngine implements CpuEngine {
    private final DnnlRuntime dnnl;
    private final DnnlElementwise primitives;
    private final DnnlLowPrecision lowPrecision;

    DnnlEngine(int threads) {
        this.dnnl = DnnlRuntime.create(threads);
        this.primitives = new DnnlElementwise(dnnl);
        this.lowPrecision = new DnnlLowPrecision(dnnl);
    }

    @Override
    public CpuBlas blas(CpuScratch scratch) {
        return new DnnlBlas(scratch, dnnl);
    }

    @Override
    public CpuElementwise elementwise(CpuParallel parallel, CpuScratch scratch) {
        return new DnnlCpuElementwise(parallel, scratch, primitives);
    }

    @Override
    public CpuActivations activations(CpuParallel parallel, CpuScratch scratch, CpuSoftmax softmax) {
        return new DnnlActivations(parallel, scratch, softmax, primitives);
    }

    @Override
    public ConvolutionPlan convolution(CpuDevice cpu, ConvGeometry geometry) {
        return new DnnlConvolution(cpu, dnnl, geometry);
    }

    @Override
    public ConvolutionPlan convolution(CpuDevice cpu, ConvGeometry geometry, DType operands) {
        return new DnnlConvolution(cpu, dnnl, geometry, operands);
    }

    @Override
    public dev.isthmus.device.InnerProductPlan innerProduct(CpuDevice cpu, int batch, int in, int out, DType operands) {
        return new DnnlInnerProduct(cpu, dnnl, batch, in, out, operands);
    }

    @Override
    public String convolutionKernel(DType dtype) {
        return lowPrecision.convolutionImplementation(dtype);
    }

    @Override
    public String whyNotLowPrecision(DType dtype) {
        return lowPrecision.whyNot(dtype);
    }

    /** oneDNN's BF16 support on this CPU, as the implementation it picks names it. */
    DnnlLowPrecision lowPrecision() {
        return lowPrecision;
    }

    @Override
    public PoolingPlan pooling(CpuDevice cpu, PoolGeometry geometry) {
        // In ceil mode oneDNN would count the overhang as padding in an average; the Java plan does not.
        boolean overhang = geometry.extraPadBottom() > 0 || geometry.extraPadRight() > 0;
        return overhang && geometry.mode() != dev.isthmus.device.PoolMode.MAX ? new CpuPooling(cpu, geometry)
                : new DnnlPooling(cpu, dnnl, geometry);
    }

    /** oneDNN's batch norm takes [N, C, H, W]; a BatchNorm1d's [N, C] runs the Java one. */
    @Override
    public BatchNormPlan batchNorm(CpuDevice cpu, Shape inputShape) {
        return inputShape.rank() == 4 ? new DnnlBatchNorm(cpu, dnnl, inputShape) : new CpuBatchNorm(cpu, inputShape);
    }

    @Override
    public Convolution3dPlan convolution3d(CpuDevice cpu, Conv3dGeometry geometry) {
        return new DnnlConvolution3d(cpu, dnnl, geometry);
    }

    /** oneDNN pools unless its divisor or padding limits differ from PyTorch's for this window (see DnnlPooling3d). */
    @Override
    public Pooling3dPlan pooling3d(CpuDevice cpu, Pool3dGeometry geometry) {
        return DnnlPooling3d.matchesPyTorch(geometry) ? new DnnlPooling3d(cpu, dnnl, geometry) : new CpuPooling3d(cpu, geometry);
    }

    @Override
    public boolean relayout(Shape shape, MemorySegment source, Layout from, MemorySegment destination, Layout to) {
        DnnlPrimitive reorder = primitives.relayout(shape, from, to);
        reorder.bind(0, source);
        reorder.bind(1, destination);
        reorder.execute();
        return true;
    }

    @Override
    public Layout activationLayout(Shape shape) {
        return shape.rank() == 4 ? Layout.CHANNELS_LAST : Layout.ROW_MAJOR;
    }

    @Override
    public String describe() {
        return "onednn " + dnnl.version();
    }

    @Override
    public void close() {
        primitives.close();
        dnnl.close();
    }
}
