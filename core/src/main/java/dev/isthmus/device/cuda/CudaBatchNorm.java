package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Batch normalisation through cuDNN's spatial mode on an [N, C, inner, 1] view of the input (so
 * BatchNorm1d's [N, C] and [N, C, L] work too). cuDNN saves the mean and 1/sqrt(var + eps) for
 * backward, which is what BatchNormPlan's saved tensors hold, and updates the running variance
 * with the unbiased estimate, as PyTorch does.
 */
final class CudaBatchNorm extends BatchNormPlan {
    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment xDesc;
    private final MemorySegment bnDesc;

    CudaBatchNorm(CudaDevice cuda, Shape inputShape) {
        super(cuda, inputShape);
        this.cuda = cuda;
        this.xDesc = Cudnn.channelView(arena, inputShape);
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        Cudnn.check(cudnn_h.cudnnCreateTensorDescriptor(out), "cudnnCreateTensorDescriptor");
        this.bnDesc = out.get(ValueLayout.ADDRESS, 0);
        Cudnn.check(cudnn_h.cudnnDeriveBNTensorDescriptor(bnDesc, xDesc, cudnn_h.CUDNN_BATCHNORM_SPATIAL()),
                "cudnnDeriveBNTensorDescriptor");
    }

    @Override
    protected void doForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     float momentum, float eps, Tensor y, Tensor savedMean, Tensor savedInvStd) {
        cuda.requireRowMajor(x, y);
        cuda.enterContext();
        Cudnn.check(cudnn_h.cudnnBatchNormalizationForwardTraining(cuda.cudnn(), cudnn_h.CUDNN_BATCHNORM_SPATIAL(), cuda.one(),
                cuda.zero(), xDesc, x.memory(), xDesc, y.memory(), bnDesc, gamma.memory(), beta.memory(), momentum,
                runningMean.memory(), runningVar.memory(), eps, savedMean.memory(), savedInvStd.memory()),
                "cudnnBatchNormalizationForwardTraining");
        cuda.afterOperation("batch norm forward");
    }

    @Override
    protected void doForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float eps, Tensor y) {
        cuda.requireRowMajor(x, y);
        cuda.enterContext();
        Cudnn.check(cudnn_h.cudnnBatchNormalizationForwardInference(cuda.cudnn(), cudnn_h.CUDNN_BATCHNORM_SPATIAL(), cuda.one(),
                cuda.zero(), xDesc, x.memory(), xDesc, y.memory(), bnDesc, gamma.memory(), beta.memory(), runningMean.memory(),
                runningVar.memory(), eps), "cudnnBatchNormalizationForwardInference");
        cuda.afterOperation("batch norm inference");
    }

    @Override
    protected void doBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor savedMean, Tensor savedInvStd,
                              float eps, Tensor gradInput, Tensor gammaGrad, Tensor betaGrad) {
        cuda.requireRowMajor(x, gradOutput);
        cuda.enterContext();
        // Data gradient overwritten (beta 0), parameter gradients accumulated (beta 1).
        Cudnn.check(cudnn_h.cudnnBatchNormalizationBackward(cuda.cudnn(), cudnn_h.CUDNN_BATCHNORM_SPATIAL(), cuda.one(),
                cuda.zero(), cuda.one(), cuda.one(), xDesc, x.memory(), xDesc, gradOutput.memory(), xDesc, gradInput.memory(),
                bnDesc, gamma.memory(), gammaGrad.memory(), betaGrad.memory(), eps, savedMean.memory(), savedInvStd.memory()),
                "cudnnBatchNormalizationBackward");
        cuda.afterOperation("batch norm backward");
    }

    @Override
    public void close() {
        Cudnn.destroyTensor(xDesc);
        Cudnn.destroyTensor(bnDesc);
        arena.close();
    }
}
