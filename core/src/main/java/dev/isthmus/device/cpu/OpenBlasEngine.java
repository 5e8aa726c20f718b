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
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;

/** The complete fallback: im2col + OpenBLAS GEMM convolutions and Java loops, row-major activations. */
record OpenBlasEngine(String whyNotOneDnn) implements CpuEngine {
    @Override
    public CpuBlas blas(CpuScratch scratch) {
        return new CpuBlas(scratch);
    }

    @Override
    public CpuElementwise elementwise(CpuParallel parallel, CpuScratch scratch) {
        return new CpuElementwise(parallel, scratch);
    }

    @Override
    public CpuActivations activations(CpuParallel parallel, CpuScratch scratch, CpuSoftmax softmax) {
        return new CpuActivations(parallel, scratch, softmax);
    }

    @Override
    public ConvolutionPlan convolution(CpuDevice cpu, ConvGeometry geometry) {
        return new CpuConvolution(cpu, geometry);
    }

    @Override
    public PoolingPlan pooling(CpuDevice cpu, PoolGeometry geometry) {
        return new CpuPooling(cpu, geometry);
    }

    @Override
    public BatchNormPlan batchNorm(CpuDevice cpu, Shape inputShape) {
        return new CpuBatchNorm(cpu, inputShape);
    }

    @Override
    public Convolution3dPlan convolution3d(CpuDevice cpu, Conv3dGeometry geometry) {
        return new CpuConvolution3d(cpu, geometry);
    }

    @Override
    public Pooling3dPlan pooling3d(CpuDevice cpu, Pool3dGeometry geometry) {
        return new CpuPooling3d(cpu, geometry);
    }

    @Override
    public Layout activationLayout(Shape shape) {
        return Layout.ROW_MAJOR;
    }

    @Override
    public String describe() {
        return "openblas (" + whyNotOneDnn + ")";
    }

    @Override
    public void close() {
    }
}
