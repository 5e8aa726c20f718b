package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnnConvolutionBwdDataAlgoPerfStruct;
import dev.isthmus.bindings.cudnn.cudnnConvolutionBwdFilterAlgoPerfStruct;
import dev.isthmus.bindings.cudnn.cudnnConvolutionFwdAlgoPerfStruct;
import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Convolution through cuDNN. The three algorithms (forward, backward data, backward filter) are
 * chosen by cudnnFind* (which times the candidates on this GPU) the first time a geometry is seen
 * in the process, and kept (see {@link AlgorithmCache}); one workspace big enough for all three
 * comes from the device's caching allocator. Each runs with the math type it was timed with.
 * Strict FP32 math (no TF32) unless ISTHMUS_CUDA_TF32=1, so the results match the CPU's within
 * float32 tolerance; only deterministic algorithms with ISTHMUS_CUDA_DETERMINISTIC=1.
 */
final class CudaConvolution extends ConvolutionPlan {
    /** The most workspace an algorithm may ask for (cuDNN's fastest sometimes want gigabytes). */
    private static final long WORKSPACE_LIMIT = 512L << 20;
    /** At least each direction's algorithm count (cuDNN 9 has 8 forward, 6 backward-data, 7 backward-filter). */
    private static final int REQUESTED = 8;

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

    CudaConvolution(CudaDevice cuda, ConvGeometry g) {
        super(cuda, g);
        this.cuda = cuda;
        this.xDesc = Cudnn.tensor(arena, g.inputShape());
        this.yDesc = Cudnn.tensor(arena, g.outputShape());
        this.biasDesc = Cudnn.tensor(arena, 1, g.outChannels(), 1, 1);
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        Cudnn.check(cudnn_h.cudnnCreateFilterDescriptor(out), "cudnnCreateFilterDescriptor");
        this.wDesc = out.get(ValueLayout.ADDRESS, 0);
        Cudnn.check(cudnn_h.cudnnSetFilter4dDescriptor(wDesc, cudnn_h.CUDNN_DATA_FLOAT(), cudnn_h.CUDNN_TENSOR_NCHW(),
                g.outChannels(), g.inChannels() / g.groups(), g.kernelHeight(), g.kernelWidth()), "cudnnSetFilter4dDescriptor");
        Cudnn.check(cudnn_h.cudnnCreateConvolutionDescriptor(out), "cudnnCreateConvolutionDescriptor");
        this.convDesc = out.get(ValueLayout.ADDRESS, 0);
        Cudnn.check(cudnn_h.cudnnSetConvolution2dDescriptor(convDesc, g.padHeight(), g.padWidth(), g.strideHeight(),
                g.strideWidth(), g.dilationHeight(), g.dilationWidth(), cudnn_h.CUDNN_CROSS_CORRELATION(),
                cudnn_h.CUDNN_DATA_FLOAT()), "cudnnSetConvolution2dDescriptor for " + g);
        Cudnn.check(cudnn_h.cudnnSetConvolutionGroupCount(convDesc, g.groups()), "cudnnSetConvolutionGroupCount");
        Cudnn.check(cudnn_h.cudnnSetConvolutionMathType(convDesc, cuda.tf32() ? cudnn_h.CUDNN_DEFAULT_MATH()
                : cudnn_h.CUDNN_FMA_MATH()), "cudnnSetConvolutionMathType");

        AlgorithmCache.Key key = new AlgorithmCache.Key(cuda.ordinal(), g, cudnn_h.CUDNN_DATA_FLOAT(), cuda.tf32(),
                cuda.deterministic());
        AlgorithmCache.Algorithms algorithms = AlgorithmCache.PROCESS.get(key, this::find);
        this.forward = algorithms.forward();
        this.backwardData = algorithms.backwardData();
        this.backwardFilter = algorithms.backwardFilter();
        this.workspaceBytes = algorithms.workspaceBytes();
        this.workspace = workspaceBytes == 0 ? null
                : cuda.allocate(Shape.of(Math.toIntExact((workspaceBytes + 3) / 4)));
    }

    /** Times the candidates of the three directions on this GPU and picks by {@link AlgorithmChoice#pick}. */
    private AlgorithmCache.Algorithms find() {
        // cudnnFind allocates each candidate's workspace itself: memory our cache holds would make
        // it skip the algorithms that need more.
        cuda.releaseCachedMemory();
        AlgorithmChoice.Rules rules = new AlgorithmChoice.Rules(cuda.deterministic(), cuda.tf32(), WORKSPACE_LIMIT);
        MemorySegment handle = cuda.cudnn();
        ConvGeometry g = geometry;
        try (Arena search = Arena.ofConfined()) {
            MemorySegment count = search.allocate(ValueLayout.JAVA_INT);
            MemoryLayout fwdLayout = cudnnConvolutionFwdAlgoPerfStruct.layout();
            MemorySegment fwd = search.allocate(fwdLayout, REQUESTED);
            Cudnn.check(cudnn_h.cudnnFindConvolutionForwardAlgorithm(handle, xDesc, wDesc, convDesc, yDesc, REQUESTED, count, fwd),
                    "cudnnFindConvolutionForwardAlgorithm for " + g);
            AlgorithmChoice forward = AlgorithmChoice.pick("forward", candidates(fwd, fwdLayout.byteSize(),
                    count.get(ValueLayout.JAVA_INT, 0), 0), rules);
            MemoryLayout dataLayout = cudnnConvolutionBwdDataAlgoPerfStruct.layout();
            MemorySegment data = search.allocate(dataLayout, REQUESTED);
            Cudnn.check(cudnn_h.cudnnFindConvolutionBackwardDataAlgorithm(handle, wDesc, yDesc, convDesc, xDesc, REQUESTED, count,
                    data), "cudnnFindConvolutionBackwardDataAlgorithm for " + g);
            AlgorithmChoice backwardData = AlgorithmChoice.pick("backward-data", candidates(data, dataLayout.byteSize(),
                    count.get(ValueLayout.JAVA_INT, 0), 1), rules);
            MemoryLayout filterLayout = cudnnConvolutionBwdFilterAlgoPerfStruct.layout();
            MemorySegment filter = search.allocate(filterLayout, REQUESTED);
            Cudnn.check(cudnn_h.cudnnFindConvolutionBackwardFilterAlgorithm(handle, xDesc, yDesc, convDesc, wDesc, REQUESTED, count,
                    filter), "cudnnFindConvolutionBackwardFilterAlgorithm for " + g);
            AlgorithmChoice backwardFilter = AlgorithmChoice.pick("backward-filter", candidates(filter, filterLayout.byteSize(),
                    count.get(ValueLayout.JAVA_INT, 0), 2), rules);
            return new AlgorithmCache.Algorithms(forward, backwardData, backwardFilter);
        }
    }

    /** cuDNN's results, fastest first, read from the perf structs of {@code kind} (0 forward, 1 data, 2 filter). */
    private static List<AlgorithmChoice.Candidate> candidates(MemorySegment results, long stride, int count, int kind) {
        List<AlgorithmChoice.Candidate> candidates = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            MemorySegment r = results.asSlice(i * stride, stride);
            candidates.add(switch (kind) {
                case 0 -> new AlgorithmChoice.Candidate(cudnnConvolutionFwdAlgoPerfStruct.algo(r),
                        cudnnConvolutionFwdAlgoPerfStruct.status(r), cudnnConvolutionFwdAlgoPerfStruct.memory(r),
                        cudnnConvolutionFwdAlgoPerfStruct.determinism(r), cudnnConvolutionFwdAlgoPerfStruct.mathType(r));
                case 1 -> new AlgorithmChoice.Candidate(cudnnConvolutionBwdDataAlgoPerfStruct.algo(r),
                        cudnnConvolutionBwdDataAlgoPerfStruct.status(r), cudnnConvolutionBwdDataAlgoPerfStruct.memory(r),
                        cudnnConvolutionBwdDataAlgoPerfStruct.determinism(r), cudnnConvolutionBwdDataAlgoPerfStruct.mathType(r));
                default -> new AlgorithmChoice.Candidate(cudnnConvolutionBwdFilterAlgoPerfStruct.algo(r),
                        cudnnConvolutionBwdFilterAlgoPerfStruct.status(r), cudnnConvolutionBwdFilterAlgoPerfStruct.memory(r),
                        cudnnConvolutionBwdFilterAlgoPerfStruct.determinism(r), cudnnConvolutionBwdFilterAlgoPerfStruct.mathType(r));
            });
        }
        return candidates;
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
        Cudnn.check(cudnn_h.cudnnConvolutionForward(handle, cuda.one(), xDesc, x.memory(), wDesc, weight.memory(), convDesc,
                forward.algo(), workspacePointer(), workspaceBytes, cuda.zero(), yDesc, y.memory()), "cudnnConvolutionForward");
        if (bias != null) {
            Cudnn.check(cudnn_h.cudnnAddTensor(handle, cuda.one(), biasDesc, bias.memory(), cuda.one(), yDesc, y.memory()),
                    "cudnnAddTensor (bias)");
        }
        cuda.afterOperation("convolution forward");
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        cuda.requireRowMajor(gradOutput, gradInput);
        cuda.enterContext();
        useMathType(backwardData);
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardData(cuda.cudnn(), cuda.one(), wDesc, weight.memory(), yDesc,
                gradOutput.memory(), convDesc, backwardData.algo(), workspacePointer(), workspaceBytes, cuda.zero(), xDesc,
                gradInput.memory()), "cudnnConvolutionBackwardData");
        cuda.afterOperation("convolution backward data");
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        cuda.requireRowMajor(x, gradOutput);
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        // beta = 1: the gradients accumulate, as the plan's contract says.
        useMathType(backwardFilter);
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardFilter(handle, cuda.one(), xDesc, x.memory(), yDesc, gradOutput.memory(),
                convDesc, backwardFilter.algo(), workspacePointer(), workspaceBytes, cuda.one(), wDesc, weightGrad.memory()),
                "cudnnConvolutionBackwardFilter");
        if (biasGrad != null) {
            Cudnn.check(cudnn_h.cudnnConvolutionBackwardBias(handle, cuda.one(), yDesc, gradOutput.memory(), cuda.one(), biasDesc,
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
        arena.close();
    }
}
