package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.Pooling3dPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 3-D max and average pooling (NCDHW, F32) through cuDNN's N-d pooling descriptor, as
 * {@link CudaPooling} does 2-D: max pooling is the deterministic variant (each gradient to the
 * first maximum, as the CPU does) and propagates NaN; average pooling counts the padding or not
 * as the layer says (PyTorch's AvgPool3d counts it by default). A ceil-mode window hanging over
 * the far edge is refused, since cuDNN pads both sides alike.
 *
 * <p>Written from cuDNN 9's headers and never run on a GPU in this repository's history (the
 * conformance test CudaVolumeConformanceTest compares it with the CPU device where a GPU exists).
 */
final class CudaPooling3d extends Pooling3dPlan {
    private static final int SPATIAL = 3;
    private static final int RANK = SPATIAL + 2;

    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final BuildUndo undo = new BuildUndo();
    private MemorySegment poolDesc;
    private MemorySegment xDesc;
    private MemorySegment yDesc;

    CudaPooling3d(CudaDevice cuda, Pool3dGeometry geometry) {
        super(cuda, geometry);
        for (int axis = 0; axis < SPATIAL; axis++) {
            if (geometry.rightPadding().get(axis) > geometry.padding().get(axis)) {
                throw new UnsupportedOperationException("pool3d " + geometry + " on " + cuda.name() + ": ceil mode with a "
                        + "window hanging over the far edge (axis " + (axis + 2) + ") is not built on the GPU (cuDNN pads both "
                        + "sides alike); it runs on the CPU");
            }
        }
        this.cuda = cuda;
        // cuDNN refuses a zero size in a descriptor: an empty batch gets those of a batch of one, never used.
        Pool3dGeometry g = geometry.batch() > 0 ? geometry : new Pool3dGeometry(geometry.mode(), 1, geometry.channels(),
                geometry.input(), geometry.kernel(), geometry.stride(), geometry.padding(), geometry.ceilMode());
        try {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cudnn.check(cudnn_h.cudnnCreatePoolingDescriptor(out), "cudnnCreatePoolingDescriptor");
            this.poolDesc = out.get(ValueLayout.ADDRESS, 0);
            undo.push("pooling descriptor", () -> cudnn_h.cudnnDestroyPoolingDescriptor(poolDesc));
            int mode = switch (g.mode()) {
                case MAX -> cudnn_h.CUDNN_POOLING_MAX_DETERMINISTIC();
                case AVERAGE_INCLUDE_PADDING -> cudnn_h.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING();
                case AVERAGE_EXCLUDE_PADDING -> cudnn_h.CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING();
            };
            // NaN propagates, as in PyTorch's max pooling.
            Cudnn.check(cudnn_h.cudnnSetPoolingNdDescriptor(poolDesc, mode, cudnn_h.CUDNN_PROPAGATE_NAN(), SPATIAL,
                    Cudnn.ints(arena, g.kernel().toArray()), Cudnn.ints(arena, g.padding().toArray()),
                    Cudnn.ints(arena, g.stride().toArray())), "cudnnSetPoolingNdDescriptor for " + g);
            this.xDesc = Cudnn.tensorNd(arena, g.inputShape());
            undo.push("xDesc", () -> Cudnn.destroyTensor(xDesc));
            this.yDesc = Cudnn.tensorNd(arena, g.outputShape());
            undo.push("yDesc", () -> Cudnn.destroyTensor(yDesc));
            requireOutputShape(g);
        } catch (RuntimeException | Error e) {
            undo.undoAll(e);
            arena.close();
            throw e;
        }
    }

    /** cuDNN's own output size must be the geometry's (PyTorch's): a disagreement is refused before any pooling runs. */
    private void requireOutputShape(Pool3dGeometry g) {
        MemorySegment dims = arena.allocate(ValueLayout.JAVA_INT, RANK);
        Cudnn.check(cudnn_h.cudnnGetPoolingNdForwardOutputDim(poolDesc, xDesc, RANK, dims),
                "cudnnGetPoolingNdForwardOutputDim for " + g);
        Shape expected = g.outputShape();
        for (int i = 0; i < RANK; i++) {
            if (dims.getAtIndex(ValueLayout.JAVA_INT, i) != expected.dim(i)) {
                throw new IllegalStateException("pool3d " + g + " on " + cuda.name() + ": cuDNN computes output "
                        + java.util.Arrays.toString(dims.toArray(ValueLayout.JAVA_INT)) + ", PyTorch's is " + expected);
            }
        }
    }

    @Override
    protected void doForward(Tensor x, Tensor y) {
        cuda.requireRowMajor(x, y);
        if (geometry.batch() == 0) {
            return;
        }
        cuda.enterContext();
        Cudnn.check(cudnn_h.cudnnPoolingForward(cuda.cudnn(), poolDesc, cuda.one(), xDesc, x.memory(), cuda.zero(), yDesc,
                y.memory()), "cudnnPoolingForward (3-D) for " + geometry);
        cuda.afterOperation("pool3d forward");
    }

    @Override
    protected void doBackward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        cuda.requireRowMajor(x, gradInput);
        cuda.requireRowMajor(y, gradOutput);
        if (geometry.batch() == 0) {
            return;
        }
        cuda.enterContext();
        Cudnn.check(cudnn_h.cudnnPoolingBackward(cuda.cudnn(), poolDesc, cuda.one(), yDesc, y.memory(), yDesc, gradOutput.memory(),
                xDesc, x.memory(), cuda.zero(), xDesc, gradInput.memory()), "cudnnPoolingBackward (3-D) for " + geometry);
        cuda.afterOperation("pool3d backward");
    }

    @Override
    public void close() {
        undo.undoAll();
        arena.close();
    }
}
