package dev.isthmus.device.cuda;

import dev.isthmus.device.OptimizerKernels;
import dev.isthmus.tensor.Tensor;

/** The CUDA device's optimizer family: one PTX kernel launch per update rule, over any length. */
final class CudaOptimizers implements OptimizerKernels.Backend {
    private final CudaDevice cuda;
    private final CudaKernels kernels;

    CudaOptimizers(CudaDevice cuda, CudaKernels kernels) {
        this.cuda = cuda;
        this.kernels = kernels;
    }

    @Override
    public void sgd(Tensor p, Tensor g, Tensor buf, float lr, float momentum, float dampening, float weightDecay, boolean nesterov,
             boolean firstStep) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, buf == null ? null : buf.memory()).float32(3, lr)
                .float32(4, momentum).float32(5, dampening).float32(6, weightDecay).int32(7, nesterov ? 1 : 0)
                .int32(8, firstStep ? 1 : 0).int64(9, p.elementCount()).launch("sgd_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("sgd step");
    }

    @Override
    public void adam(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay,
              boolean decoupled, int step) {
        cuda.enterContext();
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, m.memory()).pointer(3, v.memory()).float32(4, beta1)
                .float32(5, beta2).float32(6, eps).float32(7, biasCorrection2Sqrt).float32(8, (float) (lr / biasCorrection1))
                .float32(9, decoupled ? 1 - lr * weightDecay : 1).float32(10, decoupled ? 0 : weightDecay)
                .int64(11, p.elementCount()).launch("adam_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("adam step");
    }

    @Override
    public void rmsprop(Tensor p, Tensor g, Tensor sq, Tensor ga, Tensor buf, float lr, float alpha, float eps, float weightDecay,
                 float momentum) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, sq.memory()).pointer(3, ga == null ? null : ga.memory())
                .pointer(4, buf == null ? null : buf.memory()).float32(5, lr).float32(6, alpha).float32(7, eps)
                .float32(8, weightDecay).float32(9, momentum).int64(10, p.elementCount())
                .launch("rmsprop_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("rmsprop step");
    }

    @Override
    public void adagrad(Tensor p, Tensor g, Tensor sum, float clr, float eps, float weightDecay) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, sum.memory()).float32(3, clr).float32(4, eps)
                .float32(5, weightDecay).int64(6, p.elementCount()).launch("adagrad_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("adagrad step");
    }

    @Override
    public void l1Penalty(Tensor p, Tensor g, float l1) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).float32(2, l1).int64(3, p.elementCount())
                .launch("l1_penalty", p.elementCount(), cuda.stream());
        cuda.afterOperation("l1 penalty");
    }
}
