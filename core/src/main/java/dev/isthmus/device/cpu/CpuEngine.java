package dev.isthmus.device.cpu;

import java.lang.foreign.MemorySegment;

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

/**
 * What differs between the CPU device's two backends, chosen once when the device is made: the
 * kernels oneDNN runs faster (GEMM, addition, activations), the plans, and the layout image
 * activations are kept in. Losses, optimizer updates, reductions, softmax and dropout are the
 * same Java loops on both.
 */
sealed interface CpuEngine extends AutoCloseable permits OpenBlasEngine, DnnlEngine {
    CpuBlas blas(CpuScratch scratch);

    CpuElementwise elementwise(CpuParallel parallel, CpuScratch scratch);

    CpuActivations activations(CpuParallel parallel, CpuScratch scratch, CpuSoftmax softmax);

    ConvolutionPlan convolution(CpuDevice cpu, ConvGeometry geometry);

    /** A convolution on BF16/F16 operands; called only when {@link #whyNotLowPrecision} said null. */
    ConvolutionPlan convolution(CpuDevice cpu, ConvGeometry geometry, DType operands);

    /** A linear layer's GEMMs on BF16/F16 operands; called only when {@link #whyNotLowPrecision} said null. */
    dev.isthmus.device.InnerProductPlan innerProduct(CpuDevice cpu, int batch, int in, int out, DType operands);

    /** The kernel a training convolution on {@code dtype} operands runs, for reports. */
    String convolutionKernel(DType dtype);

    /** Null when this engine runs convolutions and GEMMs on {@code dtype} operands, else why not. */
    String whyNotLowPrecision(DType dtype);

    PoolingPlan pooling(CpuDevice cpu, PoolGeometry geometry);

    BatchNormPlan batchNorm(CpuDevice cpu, Shape inputShape);

    Convolution3dPlan convolution3d(CpuDevice cpu, Conv3dGeometry geometry);

    Pooling3dPlan pooling3d(CpuDevice cpu, Pool3dGeometry geometry);

    /**
     * Copies a rank-4 F32 tensor of {@code shape} from one layout into the other with a native
     * kernel, if this engine has one; false leaves the copy to {@link CpuLayouts}.
     */
    boolean relayout(Shape shape, MemorySegment source, Layout from, MemorySegment destination, Layout to);

    /** The layout activations of this shape are kept in. */
    Layout activationLayout(Shape shape);

    /** "onednn 2.6.3" or "openblas (why oneDNN is not used)". */
    String describe();

    @Override
    void close();
}
