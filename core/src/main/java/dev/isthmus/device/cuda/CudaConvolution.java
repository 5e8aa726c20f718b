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

/**
 * Convolution through cuDNN. The three algorithms (forward, backward data, backward filter) are
 * chosen once, when the plan is made, by cudnnFind* (which times the candidates on this GPU), and
 * one workspace big enough for all three comes from the device's caching allocator. Strict FP32
 * math (no TF32) unless ISTHMUS_CUDA_TF32=1, so the results match the CPU's within float32
 * tolerance.
 */
final class CudaConvolution extends ConvolutionPlan {
    /** The most workspace an algorithm may ask for (cuDNN's fastest sometimes want gigabytes). */
    private static final long WORKSPACE_LIMIT = 512L << 20;

    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment xDesc;
    private final MemorySegment yDesc;
    private final MemorySegment wDesc;
    private final MemorySegment biasDesc;
    private final MemorySegment convDesc;
    private final int forwardAlgo;
    private final int backwardDataAlgo;
    private final int backwardFilterAlgo;
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

        MemorySegment handle = cuda.cudnn();
        MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
        int requested = 8;
        MemoryLayout fwdLayout = cudnnConvolutionFwdAlgoPerfStruct.layout();
        MemorySegment fwd = arena.allocate(fwdLayout, requested);
        Cudnn.check(cudnn_h.cudnnFindConvolutionForwardAlgorithm(handle, xDesc, wDesc, convDesc, yDesc, requested, count, fwd),
                "cudnnFindConvolutionForwardAlgorithm for " + g);
        int[] forward = pick(fwd, fwdLayout.byteSize(), count.get(ValueLayout.JAVA_INT, 0), 0);
        MemoryLayout dataLayout = cudnnConvolutionBwdDataAlgoPerfStruct.layout();
        MemorySegment data = arena.allocate(dataLayout, requested);
        Cudnn.check(cudnn_h.cudnnFindConvolutionBackwardDataAlgorithm(handle, wDesc, yDesc, convDesc, xDesc, requested, count, data),
                "cudnnFindConvolutionBackwardDataAlgorithm for " + g);
        int[] backwardData = pick(data, dataLayout.byteSize(), count.get(ValueLayout.JAVA_INT, 0), 1);
        MemoryLayout filterLayout = cudnnConvolutionBwdFilterAlgoPerfStruct.layout();
        MemorySegment filter = arena.allocate(filterLayout, requested);
        Cudnn.check(cudnn_h.cudnnFindConvolutionBackwardFilterAlgorithm(handle, xDesc, yDesc, convDesc, wDesc, requested, count,
                filter), "cudnnFindConvolutionBackwardFilterAlgorithm for " + g);
        int[] backwardFilter = pick(filter, filterLayout.byteSize(), count.get(ValueLayout.JAVA_INT, 0), 2);
        this.forwardAlgo = forward[0];
        this.backwardDataAlgo = backwardData[0];
        this.backwardFilterAlgo = backwardFilter[0];
        this.workspaceBytes = Math.max(forward[1], Math.max(backwardData[1], backwardFilter[1]));
        this.workspace = workspaceBytes == 0 ? null
                : cuda.allocate(Shape.of(Math.toIntExact((workspaceBytes + 3) / 4)));
    }

    /**
     * The fastest successful algorithm within the workspace limit: {algo, workspace bytes}. cuDNN
     * returns the results sorted by time; the three perf structs share their first fields' layout.
     */
    private static int[] pick(MemorySegment results, long stride, int count, int kind) {
        for (int i = 0; i < count; i++) {
            MemorySegment result = results.asSlice(i * stride, stride);
            int status = switch (kind) {
                case 0 -> cudnnConvolutionFwdAlgoPerfStruct.status(result);
                case 1 -> cudnnConvolutionBwdDataAlgoPerfStruct.status(result);
                default -> cudnnConvolutionBwdFilterAlgoPerfStruct.status(result);
            };
            long memory = switch (kind) {
                case 0 -> cudnnConvolutionFwdAlgoPerfStruct.memory(result);
                case 1 -> cudnnConvolutionBwdDataAlgoPerfStruct.memory(result);
                default -> cudnnConvolutionBwdFilterAlgoPerfStruct.memory(result);
            };
            if (status == 0 && memory <= WORKSPACE_LIMIT) {
                int algo = switch (kind) {
                    case 0 -> cudnnConvolutionFwdAlgoPerfStruct.algo(result);
                    case 1 -> cudnnConvolutionBwdDataAlgoPerfStruct.algo(result);
                    default -> cudnnConvolutionBwdFilterAlgoPerfStruct.algo(result);
                };
                return new int[] {algo, (int) memory};
            }
        }
        throw new IllegalStateException("cuDNN found no usable " + (kind == 0 ? "forward" : kind == 1 ? "backward-data"
                : "backward-filter") + " convolution algorithm within " + (WORKSPACE_LIMIT >> 20) + " MiB of workspace");
    }

    private MemorySegment workspacePointer() {
        return workspace == null ? MemorySegment.NULL : workspace.memory();
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        cuda.requireRowMajor(x, y);
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        Cudnn.check(cudnn_h.cudnnConvolutionForward(handle, cuda.one(), xDesc, x.memory(), wDesc, weight.memory(), convDesc,
                forwardAlgo, workspacePointer(), workspaceBytes, cuda.zero(), yDesc, y.memory()), "cudnnConvolutionForward");
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
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardData(cuda.cudnn(), cuda.one(), wDesc, weight.memory(), yDesc,
                gradOutput.memory(), convDesc, backwardDataAlgo, workspacePointer(), workspaceBytes, cuda.zero(), xDesc,
                gradInput.memory()), "cudnnConvolutionBackwardData");
        cuda.afterOperation("convolution backward data");
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        cuda.requireRowMajor(x, gradOutput);
        cuda.enterContext();
        MemorySegment handle = cuda.cudnn();
        // beta = 1: the gradients accumulate, as the plan's contract says.
        Cudnn.check(cudnn_h.cudnnConvolutionBackwardFilter(handle, cuda.one(), xDesc, x.memory(), yDesc, gradOutput.memory(),
                convDesc, backwardFilterAlgo, workspacePointer(), workspaceBytes, cuda.one(), wDesc, weightGrad.memory()),
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
