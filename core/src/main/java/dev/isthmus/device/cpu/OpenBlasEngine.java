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
    public ConvolutionPlan convolution(CpuDevice cpu, ConvGeometry geometry, DType operands) {
        throw new UnsupportedOperationException("convolution in " + operands + ": " + whyNotLowPrecision(operands));
    }

    @Override
    public dev.isthmus.device.InnerProductPlan innerProduct(CpuDevice cpu, int batch, int in, int out, DType operands) {
        throw new UnsupportedOperationException("inner product in " + operands + ": " + whyNotLowPrecision(operands));
    }

    @Override
    public String convolutionKernel(DType dtype) {
        return dtype == DType.F32 ? "im2col + OpenBLAS sgemm" : "none";
    }

    @Override
    public String whyNotLowPrecision(DType dtype) {
        return "the OpenBLAS backend computes in F32 only; mixed precision on the CPU needs oneDNN's " + dtype
                + " primitives (install libdnnl2 and do not set " + DnnlRuntime.BACKEND_PROPERTY + "=openblas)";
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

    /** Activations stay row-major here; a relayout is only ever a host copy, left to Java. */
    @Override
    public boolean relayout(Shape shape, MemorySegment source, Layout from, MemorySegment destination, Layout to) {
        return false;
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
