package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Convolution through cuDNN. The three algorithms (forward, backward data, backward filter) are
 * chosen by cudnnFind* (which times the candidates on this GPU) the first time a geometry is seen
 * in the process, and kept (see {@link AlgorithmCache}); one workspace big enough for all three
 * comes from the device's caching allocator. Each runs with the math type it was timed with.
 * Strict FP32 math (no TF32) unless ISTHMUS_CUDA_TF32=1, so the results match the CPU's within
 * float32 tolerance; only deterministic algorithms with ISTHMUS_CUDA_DETERMINISTIC=1.
 *
 * <p>With BF16 or F16 operands (mixed precision) the descriptors of input, output and filter are
 * of that type and the convolution computes in FP32 (cuDNN's PSEUDO_HALF / PSEUDO_BF16 configs:
 * tensor-core math, FP32 accumulation). cuDNN wants one type for x, w and y, so the plan keeps
 * low-precision copies: the F32 master weights are converted into one on each call; the output
 * and input gradient come out in the low type and are converted to F32; the weight gradient
 * comes out in the low type (as autocast's does) and is added into the F32 one; the bias and its
 * gradient stay F32.
 */
final class CudaConvolution extends ConvolutionPlan {
    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment xDesc;
    private final MemorySegment yDesc;
    private final MemorySegment wDesc;
    private final MemorySegment biasDesc;
    private final MemorySegment convDesc;
    private final AlgorithmChoice forward;
    private final AlgorithmChoice backwardData;
    private final AlgorithmChoice backwardFilter;
    private final Tensor workspace;
    private final long workspaceBytes;
    private final boolean lowPrecision;
    private final int dataType;
    // Mixed precision only: F32 output view for the bias, and the low-precision copies.
    private final MemorySegment yDescF32;
    private final Tensor lowWeights;
    private final Tensor lowOutput;
    private final Tensor lowGradInput;
    private final Tensor lowWeightGrad;
    private final Tensor weightGradF32;
    private final Tensor gradOutputF32;

    CudaConvolution(CudaDevice cuda, ConvGeometry g) {
        this(cuda, g, DType.F32);
    }

    CudaConvolution(CudaDevice cuda, ConvGeometry g, DType operands) {
        super(cuda, g, operands);
        this.cuda = cuda;
        this.lowPrecision = operands != DType.F32;
        this.dataType = Cudnn.dataType(operands);
        this.xDesc = Cudnn.tensor(arena, g.inputShape(), dataType);
        this.yDesc = Cudnn.tensor(arena, g.outputShape(), dataType);
        this.yDescF32 = lowPrecision ? Cudnn.tensor(arena, g.outputShape()) : yDesc;
        this.biasDesc = Cudnn.tensor(arena, 1, g.outChannels(), 1, 1);
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        Cudnn.check(cudnn_h.cudnnCreateFilterDescriptor(out), "cudnnCreateFilterDescriptor");
        this.wDesc = out.get(ValueLayout.ADDRESS, 0);
        Cudnn.check(cudnn_h.cudnnSetFilter4dDescriptor(wDesc, dataType, cudnn_h.CUDNN_TENSOR_NCHW(),
                g.outChannels(), g.inChannels() / g.groups(), g.kernelHeight(), g.kernelWidth()), "cudnnSetFilter4dDescriptor");
        Cudnn.check(cudnn_h.cudnnCreateConvolutionDescriptor(out), "cudnnCreateConvolutionDescriptor");
        this.convDesc = out.get(ValueLayout.ADDRESS, 0);
        Cudnn.check(cudnn_h.cudnnSetConvolution2dDescriptor(convDesc, g.padHeight(), g.padWidth(), g.strideHeight(),
                g.strideWidth(), g.dilationHeight(), g.dilationWidth(), cudnn_h.CUDNN_CROSS_CORRELATION(),
                cudnn_h.CUDNN_DATA_FLOAT()), "cudnnSetConvolution2dDescriptor for " + g);
        Cudnn.check(cudnn_h.cudnnSetConvolutionGroupCount(convDesc, g.groups()), "cudnnSetConvolutionGroupCount");
        Cudnn.check(cudnn_h.cudnnSetConvolutionMathType(convDesc, lowPrecision ? cudnn_h.CUDNN_TENSOR_OP_MATH()
                : cuda.tf32() ? cudnn_h.CUDNN_DEFAULT_MATH() : cudnn_h.CUDNN_FMA_MATH()), "cudnnSetConvolutionMathType");

        AlgorithmCache.Key key = new AlgorithmCache.Key(cuda.ordinal(), g, dataType, allowTensorOps(), cuda.deterministic());
        AlgorithmCache.Algorithms algorithms = AlgorithmCache.PROCESS.get(key, this::find);
        this.forward = algorithms.forward();
        this.backwardData = algorithms.backwardData();
        this.backwardFilter = algorithms.backwardFilter();
        this.workspaceBytes = algorithms.workspaceBytes();
        this.workspace = workspaceBytes == 0 ? null
                : cuda.allocate(Shape.of(Math.toIntExact((workspaceBytes + 3) / 4)));
        if (lowPrecision) {
            lowWeights = cuda.allocate(g.weightShape(), operands);
            lowOutput = cuda.allocate(g.outputShape(), operands);
            lowGradInput = cuda.allocate(g.inputShape(), operands);
            lowWeightGrad = cuda.allocate(g.weightShape(), operands);
            weightGradF32 = cuda.allocate(g.weightShape());
            gradOutputF32 = cuda.allocate(g.outputShape());
        } else {
            lowWeights = null;
            lowOutput = null;
            lowGradInput = null;
            lowWeightGrad = null;
            weightGradF32 = null;
            gradOutputF32 = null;
        }
    }

    /** Tensor-core math: what mixed precision is for; in F32 only when TF32 is allowed. */
    private boolean allowTensorOps() {
        return lowPrecision || cuda.tf32();
    }

    /** The F32 master weights as the convolution reads them: themselves, or their low-precision copy made now. */
    private Tensor weightsFor(Tensor weight) {
        if (!lowPrecision) {
            return weight;
        }
        cuda.convert(weight, lowWeights);
        return lowWeights;
    }

    /** Times the candidates of the three directions on this GPU (see {@link ConvolutionAlgorithmSearch}). */
    private AlgorithmCache.Algorithms find() {
        return ConvolutionAlgorithmSearch.find(cuda, allowTensorOps(), xDesc, wDesc, convDesc, yDesc, geometry);
    }

    /** Sets the math type {@code choice} was timed with: one convolution descriptor serves the three directions. */
    private void useMathType(AlgorithmChoice choice) {
        Cudnn.check(cudnn_h.cudnnSetConvolutionMathType(convDesc, choice.mathType()), "cudnnSetConvolutionMathType");
    }

    private MemorySegment workspacePointer() {
        return workspace == null ? MemorySegment.NULL : workspace.memory();
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        cuda.requireRowMajor(x, y);
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        useMathType(forward);
        Tensor w = weightsFor(weight);
        Tensor result = lowPrecision ? lowOutput : y;
        Cudnn.check(cudnn_h.cudnnConvolutionForward(handle, cuda.one(), xDesc, x.memory(), wDesc, w.memory(), convDesc,
                forward.algo(), workspacePointer(), workspaceBytes, cuda.zero(), yDesc, result.memory()), "cudnnConvolutionForward");
        if (lowPrecision) {
            cuda.convert(lowOutput, y);
        }
        if (bias != null) {
            Cudnn.check(cudnn_h.cudnnAddTensor(handle, cuda.one(), biasDesc, bias.memory(), cuda.one(), yDescF32, y.memory()),
                    "cudnnAddTensor (bias)");
        }
        cuda.afterOperation("convolution forward");
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        cuda.requireRowMajor(gradOutput, gradInput);
        cuda.enterContext();
        useMathType(backwardData);
        Tensor w = weightsFor(weight);
        Tensor result = lowPrecision ? lowGradInput : gradInput;
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardData(cuda.cudnn(), cuda.one(), wDesc, w.memory(), yDesc,
                gradOutput.memory(), convDesc, backwardData.algo(), workspacePointer(), workspaceBytes, cuda.zero(), xDesc,
                result.memory()), "cudnnConvolutionBackwardData");
        if (lowPrecision) {
            cuda.convert(lowGradInput, gradInput);
        }
        cuda.afterOperation("convolution backward data");
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        cuda.requireRowMajor(x, gradOutput);
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        // beta = 1: the gradients accumulate, as the plan's contract says.
        useMathType(backwardFilter);
        if (lowPrecision) {
            // The low-precision gradient is overwritten (beta 0), then added into the F32 one.
            Cudnn.check(cudnn_h.cudnnConvolutionBackwardFilter(handle, cuda.one(), xDesc, x.memory(), yDesc, gradOutput.memory(),
                    convDesc, backwardFilter.algo(), workspacePointer(), workspaceBytes, cuda.zero(), wDesc, lowWeightGrad.memory()),
                    "cudnnConvolutionBackwardFilter");
            cuda.convert(lowWeightGrad, weightGradF32);
            cuda.add(weightGrad, weightGradF32, weightGrad);
        } else {
            Cudnn.check(cudnn_h.cudnnConvolutionBackwardFilter(handle, cuda.one(), xDesc, x.memory(), yDesc, gradOutput.memory(),
                    convDesc, backwardFilter.algo(), workspacePointer(), workspaceBytes, cuda.one(), wDesc, weightGrad.memory()),
                    "cudnnConvolutionBackwardFilter");
        }
        if (biasGrad != null) {
            Tensor dy = gradOutput;
            if (lowPrecision) {
                // The bias gradient is F32 arithmetic on the (low-precision) output gradient.
                cuda.convert(gradOutput, gradOutputF32);
                dy = gradOutputF32;
            }
            Cudnn.check(cudnn_h.cudnnConvolutionBackwardBias(handle, cuda.one(), yDescF32, dy.memory(), cuda.one(), biasDesc,
                    biasGrad.memory()), "cudnnConvolutionBackwardBias");
        }
        cuda.afterOperation("convolution backward filter");
    }

    @Override
    public void close() {
        Cudnn.destroyTensor(xDesc);
        Cudnn.destroyTensor(yDesc);
        Cudnn.destroyTensor(biasDesc);
        cudnn_h.cudnnDestroyFilterDescriptor(wDesc);
        cudnn_h.cudnnDestroyConvolutionDescriptor(convDesc);
        if (workspace != null) {
            workspace.close();
        }
        if (lowPrecision) {
            Cudnn.destroyTensor(yDescF32);
            for (Tensor tensor : new Tensor[] {lowWeights, lowOutput, lowGradInput, lowWeightGrad, weightGradF32, gradOutputF32}) {
                tensor.close();
            }
        }
        arena.close();
    }
}
