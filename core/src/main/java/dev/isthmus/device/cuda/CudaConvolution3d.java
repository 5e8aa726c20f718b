package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 3-D convolution (NCDHW, F32) through cuDNN's N-d descriptors, as {@link CudaConvolution} does
 * 2-D: the three algorithms chosen by cudnnFind the first time a geometry is seen in the process
 * ({@link ConvolutionAlgorithmSearch}, {@link AlgorithmCache}), one workspace for all three from the
 * device's caching allocator, each run with the math type it was timed with, strict FP32 unless
 * ISTHMUS_CUDA_TF32=1. Everything native is made here, once: a step allocates nothing.
 *
 * <p>Written from cuDNN 9's headers and never run on a GPU in this repository's history (the
 * conformance test CudaVolumeConformanceTest compares it with the CPU device where a GPU exists).
 */
final class CudaConvolution3d extends Convolution3dPlan {
    private static final int SPATIAL = 3;
    private static final int RANK = SPATIAL + 2;

    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final BuildUndo undo = new BuildUndo();
    private MemorySegment xDesc;
    private MemorySegment yDesc;
    private MemorySegment biasDesc;
    private MemorySegment wDesc;
    private MemorySegment convDesc;
    private final AlgorithmChoice forward;
    private final AlgorithmChoice backwardData;
    private final AlgorithmChoice backwardFilter;
    private final Tensor workspace;
    private final long workspaceBytes;

    CudaConvolution3d(CudaDevice cuda, Conv3dGeometry geometry) {
        super(cuda, geometry);
        this.cuda = cuda;
        // cuDNN refuses a zero size in a descriptor: an empty batch gets the descriptors of a batch
        // of one, which are never used (every call returns at once), so the plan still exists.
        Conv3dGeometry g = geometry.batch() > 0 ? geometry : new Conv3dGeometry(1, geometry.inChannels(), geometry.input(),
                geometry.outChannels(), geometry.kernel(), geometry.stride(), geometry.padding(), geometry.dilation(),
                geometry.groups());
        try {
            this.xDesc = Cudnn.tensorNd(arena, g.inputShape());
            undo.push("xDesc", () -> Cudnn.destroyTensor(xDesc));
            this.yDesc = Cudnn.tensorNd(arena, g.outputShape());
            undo.push("yDesc", () -> Cudnn.destroyTensor(yDesc));
            this.biasDesc = Cudnn.tensorNd(arena, Shape.of(1, g.outChannels(), 1, 1, 1));
            undo.push("biasDesc", () -> Cudnn.destroyTensor(biasDesc));
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cudnn.check(cudnn_h.cudnnCreateFilterDescriptor(out), "cudnnCreateFilterDescriptor");
            this.wDesc = out.get(ValueLayout.ADDRESS, 0);
            undo.push("filter descriptor", () -> cudnn_h.cudnnDestroyFilterDescriptor(wDesc));
            Shape w = g.weightShape();
            Cudnn.check(cudnn_h.cudnnSetFilterNdDescriptor(wDesc, cudnn_h.CUDNN_DATA_FLOAT(), cudnn_h.CUDNN_TENSOR_NCHW(), RANK,
                    Cudnn.ints(arena, w.dim(0), w.dim(1), w.dim(2), w.dim(3), w.dim(4))), "cudnnSetFilterNdDescriptor for " + g);
            Cudnn.check(cudnn_h.cudnnCreateConvolutionDescriptor(out), "cudnnCreateConvolutionDescriptor");
            this.convDesc = out.get(ValueLayout.ADDRESS, 0);
            undo.push("convolution descriptor", () -> cudnn_h.cudnnDestroyConvolutionDescriptor(convDesc));
            Cudnn.check(cudnn_h.cudnnSetConvolutionNdDescriptor(convDesc, SPATIAL, Cudnn.ints(arena, g.padding().toArray()),
                    Cudnn.ints(arena, g.stride().toArray()), Cudnn.ints(arena, g.dilation().toArray()),
                    cudnn_h.CUDNN_CROSS_CORRELATION(), cudnn_h.CUDNN_DATA_FLOAT()), "cudnnSetConvolutionNdDescriptor for " + g);
            Cudnn.check(cudnn_h.cudnnSetConvolutionGroupCount(convDesc, g.groups()), "cudnnSetConvolutionGroupCount for " + g);
            Cudnn.check(cudnn_h.cudnnSetConvolutionMathType(convDesc, cuda.tf32() ? cudnn_h.CUDNN_DEFAULT_MATH()
                    : cudnn_h.CUDNN_FMA_MATH()), "cudnnSetConvolutionMathType");
            requireOutputShape(g);

            AlgorithmCache.Key key = new AlgorithmCache.Key(cuda.ordinal(), g, cudnn_h.CUDNN_DATA_FLOAT(), cuda.tf32(),
                    cuda.deterministic());
            AlgorithmCache.Algorithms algorithms = AlgorithmCache.PROCESS.get(key,
                    () -> ConvolutionAlgorithmSearch.find(cuda, cuda.tf32(), xDesc, wDesc, convDesc, yDesc, g));
            this.forward = algorithms.forward();
            this.backwardData = algorithms.backwardData();
            this.backwardFilter = algorithms.backwardFilter();
            this.workspaceBytes = algorithms.workspaceBytes();
            this.workspace = workspaceBytes == 0 ? null
                    : cuda.allocate(Shape.of(Math.toIntExact((workspaceBytes + 3) / 4)));
        } catch (RuntimeException | Error e) {
            undo.undoAll(e);
            arena.close();
            throw e;
        }
    }

    /** cuDNN's own output size must be the geometry's (PyTorch's): a disagreement is refused before any convolution runs. */
    private void requireOutputShape(Conv3dGeometry g) {
        MemorySegment dims = arena.allocate(ValueLayout.JAVA_INT, RANK);
        Cudnn.check(cudnn_h.cudnnGetConvolutionNdForwardOutputDim(convDesc, xDesc, wDesc, RANK, dims),
                "cudnnGetConvolutionNdForwardOutputDim for " + g);
        Shape expected = g.outputShape();
        for (int i = 0; i < RANK; i++) {
            if (dims.getAtIndex(ValueLayout.JAVA_INT, i) != expected.dim(i)) {
                throw new IllegalStateException("conv3d " + g + " on " + cuda.name() + ": cuDNN computes output "
                        + java.util.Arrays.toString(dims.toArray(ValueLayout.JAVA_INT)) + ", PyTorch's is " + expected);
            }
        }
    }

    private void useMathType(AlgorithmChoice choice) {
        Cudnn.check(cudnn_h.cudnnSetConvolutionMathType(convDesc, choice.mathType()), "cudnnSetConvolutionMathType");
    }

    private MemorySegment workspacePointer() {
        return workspace == null ? MemorySegment.NULL : workspace.memory();
    }

    /** An empty batch has nothing to compute, and cuDNN refuses descriptors with a zero size. */
    private boolean emptyBatch() {
        return geometry.batch() == 0;
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        cuda.requireRowMajor(x, y);
        if (emptyBatch()) {
            return;
        }
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        useMathType(forward);
        Cudnn.check(cudnn_h.cudnnConvolutionForward(handle, cuda.one(), xDesc, x.memory(), wDesc, weight.memory(), convDesc,
                forward.algo(), workspacePointer(), workspaceBytes, cuda.zero(), yDesc, y.memory()),
                "cudnnConvolutionForward (3-D) for " + geometry);
        if (bias != null) {
            Cudnn.check(cudnn_h.cudnnAddTensor(handle, cuda.one(), biasDesc, bias.memory(), cuda.one(), yDesc, y.memory()),
                    "cudnnAddTensor (3-D bias) for " + geometry);
        }
        cuda.afterOperation("conv3d forward");
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        cuda.requireRowMajor(gradOutput, gradInput);
        if (emptyBatch()) {
            return;
        }
        cuda.enterContext();
        useMathType(backwardData);
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardData(cuda.cudnn(), cuda.one(), wDesc, weight.memory(), yDesc,
                gradOutput.memory(), convDesc, backwardData.algo(), workspacePointer(), workspaceBytes, cuda.zero(), xDesc,
                gradInput.memory()), "cudnnConvolutionBackwardData (3-D) for " + geometry);
        cuda.afterOperation("conv3d backward data");
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        cuda.requireRowMajor(x, gradOutput);
        if (emptyBatch()) {
            return;
        }
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        useMathType(backwardFilter);
        // beta = 1: the gradients accumulate, as the plan's contract says.
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardFilter(handle, cuda.one(), xDesc, x.memory(), yDesc, gradOutput.memory(),
                convDesc, backwardFilter.algo(), workspacePointer(), workspaceBytes, cuda.one(), wDesc, weightGrad.memory()),
                "cudnnConvolutionBackwardFilter (3-D) for " + geometry);
        if (biasGrad != null) {
            Cudnn.check(cudnn_h.cudnnConvolutionBackwardBias(handle, cuda.one(), yDesc, gradOutput.memory(), cuda.one(), biasDesc,
                    biasGrad.memory()), "cudnnConvolutionBackwardBias (3-D) for " + geometry);
        }
        cuda.afterOperation("conv3d backward filter");
    }

    @Override
    public void close() {
        if (workspace != null) {
            workspace.close();
        }
        undo.undoAll();
        arena.close();
    }
}
