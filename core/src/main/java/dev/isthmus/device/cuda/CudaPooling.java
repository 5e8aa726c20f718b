package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pooling through cuDNN. Max pooling uses the deterministic variant, whose backward sends each
 * gradient to the first maximum as the CPU does; padding never wins a maximum, and average pooling
 * with padding counted divides by the full window, as PyTorch does with floored output sizes.
 */
final class CudaPooling extends PoolingPlan {
    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment poolDesc;
    private final MemorySegment xDesc;
    private final MemorySegment yDesc;

    CudaPooling(CudaDevice cuda, PoolGeometry g) {
        super(cuda, g);
        if (g.extraPadBottom() > 0 || g.extraPadRight() > 0) {
            // cuDNN's 2-D pooling descriptor pads both sides alike; the overhang of ceil mode is one-sided.
            throw new UnsupportedOperationException("pooling " + g + " on CUDA: ceil mode with a window hanging over the "
                    + "edge is not built on the GPU (cuDNN pads both sides alike); it runs on the CPU");
        }
        this.cuda = cuda;
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        Cudnn.check(cudnn_h.cudnnCreatePoolingDescriptor(out), "cudnnCreatePoolingDescriptor");
        this.poolDesc = out.get(ValueLayout.ADDRESS, 0);
        int mode = switch (g.mode()) {
            case MAX -> cudnn_h.CUDNN_POOLING_MAX_DETERMINISTIC();
            case AVERAGE_INCLUDE_PADDING -> cudnn_h.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING();
            case AVERAGE_EXCLUDE_PADDING -> cudnn_h.CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING();
        };
        // NaN propagates, as in PyTorch's max pooling.
        Cudnn.check(cudnn_h.cudnnSetPooling2dDescriptor(poolDesc, mode, cudnn_h.CUDNN_PROPAGATE_NAN(), g.kernelHeight(),
                g.kernelWidth(), g.padHeight(), g.padWidth(), g.strideHeight(), g.strideWidth()), "cudnnSetPooling2dDescriptor for " + g);
        this.xDesc = Cudnn.tensor(arena, g.inputShape());
        this.yDesc = Cudnn.tensor(arena, g.outputShape());
    }

    @Override
    protected void doForward(Tensor x, Tensor y) {
        cuda.requireRowMajor(x, y);
        cuda.enterContext();
        Cudnn.check(cudnn_h.cudnnPoolingForward(cuda.cudnn(), poolDesc, cuda.one(), xDesc, x.memory(), cuda.zero(), yDesc,
                y.memory()), "cudnnPoolingForward");
        cuda.afterOperation("pooling forward");
    }

    @Override
    protected void doBackward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        cuda.requireRowMajor(x, gradInput);
        cuda.requireRowMajor(y, gradOutput);
        cuda.enterContext();
        Cudnn.check(cudnn_h.cudnnPoolingBackward(cuda.cudnn(), poolDesc, cuda.one(), yDesc, y.memory(), yDesc, gradOutput.memory(),
                xDesc, x.memory(), cuda.zero(), xDesc, gradInput.memory()), "cudnnPoolingBackward");
        cuda.afterOperation("pooling backward");
    }

    @Override
    public void close() {
        cudnn_h.cudnnDestroyPoolingDescriptor(poolDesc);
        Cudnn.destroyTensor(xDesc);
        Cudnn.destroyTensor(yDesc);
        arena.close();
    }
}
