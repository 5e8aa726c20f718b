package dev.isthmus.device.cuda;

import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.InnerProductPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Mixed precision's linear layer on the GPU: y = x·Wᵀ + b is cuDNN's 1×1 convolution of x as
 * [N, in, 1, 1] with W as [out, in, 1, 1], so it runs {@link CudaConvolution}'s BF16/F16
 * tensor-core path (FP32 accumulation) on views of the same memory. (cuBLAS's cublasGemmEx would
 * do the same GEMMs, but the committed cuBLAS bindings do not include it.)
 */
final class CudaInnerProduct extends InnerProductPlan {
    private final CudaConvolution convolution;

    CudaInnerProduct(CudaDevice cuda, int batch, int inFeatures, int outFeatures, DType operands) {
        super(cuda, batch, inFeatures, outFeatures, operands);
        this.convolution = new CudaConvolution(cuda,
                new ConvGeometry(batch, inFeatures, 1, 1, outFeatures, 1, 1, 1, 1, 0, 0, 1, 1, 1), operands);
    }

    private static Tensor image(Tensor matrix) {
        return matrix.reshape(Shape.of(matrix.shape().dim(0), matrix.shape().dim(1), 1, 1));
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        convolution.forward(image(x), image(weight), bias, image(y));
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        convolution.backwardData(image(gradOutput), image(weight), image(gradInput));
    }

    @Override
    protected void doBackwardWeights(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        convolution.backwardFilter(image(x), image(gradOutput), image(weightGrad), biasGrad);
    }

    @Override
    public void close() {
        convolution.close();
    }
}
