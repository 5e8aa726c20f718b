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

    PoolingPlan pooling(CpuDevice cpu, PoolGeometry geometry);

    BatchNormPlan batchNorm(CpuDevice cpu, Shape inputShape);

    Convolution3dPlan convolution3d(CpuDevice cpu, Conv3dGeometry geometry);

    Pooling3dPlan pooling3d(CpuDevice cpu, Pool3dGeometry geometry);

    /** The layout activations of this shape are kept in. */
    Layout activationLayout(Shape shape);

    /** "onednn 2.6.3" or "openblas (why oneDNN is not used)". */
    String describe();

    @Override
    void close();
}
