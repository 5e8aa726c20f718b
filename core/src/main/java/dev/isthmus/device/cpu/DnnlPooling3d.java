package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.Dims3;
import dev.isthmus.device.Pool3dGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.Pooling3dPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * 3-D pooling through oneDNN on NCDHW volumes. Ceil mode becomes a larger right padding
 * ({@link Pool3dGeometry#rightPadding}). Max pooling keeps oneDNN's workspace from the forward for
 * the backward. Used only where oneDNN's result is PyTorch's ({@link #matchesPyTorch}).
 */
final class DnnlPooling3d extends Pooling3dPlan {
    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private final DnnlPrimitive forward;
    private final DnnlPrimitive backward;
    private final Tensor workspace;

    DnnlPooling3d(CpuDevice cpu, DnnlRuntime dnnl, Pool3dGeometry geometry) {
        super(cpu, geometry);
        this.dnnl = dnnl;
        boolean max = max();
        int[] kinds = max ? new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_WORKSPACE()}
                : new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()};
        int[] queries = max ? new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md(), dnnl_h.dnnl_query_workspace_md()}
                : new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md()};
        forward = DnnlPrimitive.create(dnnl, "pool3d forward", opDescriptor(true), dnnl.plainAttributes(), null,
                kinds, queries, new int[kinds.length]);
        DnnlPrimitive backwardPrimitive = null;
        Tensor workspaceTensor = null;
        try {
            if (max) {
                long bytes = forward.bytes(dnnl_h.dnnl_query_workspace_md(), 0);
                workspaceTensor = cpu.allocate(Shape.of(Math.toIntExact((bytes + 3) / 4)));
            }
            int[] backKinds = max ? new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC(), dnnl_h.DNNL_ARG_WORKSPACE()}
                    : new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()};
            int[] backQueries = max ? new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_src_md(),
                dnnl_h.dnnl_query_workspace_md()}
                    : new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_src_md()};
            backwardPrimitive = DnnlPrimitive.create(dnnl, "pool3d backward", opDescriptor(false), dnnl.plainAttributes(),
                    forward.primitiveDesc(), backKinds, backQueries, new int[backKinds.length]);
        } catch (RuntimeException failed) {
            forward.close();
            if (workspaceTensor != null) {
                workspaceTensor.close();
            }
            arena.close();
            throw failed;
        }
        this.workspace = workspaceTensor;
        this.backward = backwardPrimitive;
    }

    /**
     * Whether oneDNN computes what PyTorch does: its average with padding counted divides by the
     * whole kernel, PyTorch's by the window clipped to the padded input, which differ when a
     * ceil-mode window reaches past the right padding; and oneDNN wants every padding smaller
     * than the kernel.
     */
    static boolean matchesPyTorch(Pool3dGeometry geometry) {
        Dims3 right = geometry.rightPadding();
        for (int axis = 0; axis < 3; axis++) {
            if (right.get(axis) >= geometry.kernel().get(axis)) {
                return false;
            }
            if (geometry.mode() == PoolMode.AVERAGE_INCLUDE_PADDING && right.get(axis) > geometry.padding().get(axis)) {
                return false;
            }
        }
        return true;
    }

    private boolean max() {
        return geometry.mode() == PoolMode.MAX;
    }

    private int algorithm() {
        return switch (geometry.mode()) {
            case MAX -> dnnl_h.dnnl_pooling_max();
            case AVERAGE_INCLUDE_PADDING -> dnnl_h.dnnl_pooling_avg_include_padding();
            case AVERAGE_EXCLUDE_PADDING -> dnnl_h.dnnl_pooling_avg_exclude_padding();
        };
    }

    private MemorySegment opDescriptor(boolean forwardPass) {
        Pool3dGeometry g = geometry;
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        MemorySegment src = dnnl.descriptor(arena, g.inputShape().dims(), dnnl_h.dnnl_abcde());
        MemorySegment dst = dnnl.descriptor(arena, g.outputShape().dims(), dnnl_h.dnnl_abcde());
        MemorySegment strides = DnnlRuntime.dims(arena, g.stride().toArray());
        MemorySegment kernel = DnnlRuntime.dims(arena, g.kernel().toArray());
        MemorySegment dilation = DnnlRuntime.dims(arena, 0, 0, 0);
        MemorySegment left = DnnlRuntime.dims(arena, g.padding().toArray());
        MemorySegment right = DnnlRuntime.dims(arena, g.rightPadding().toArray());
        int status = forwardPass
                ? dnnl_h.dnnl_pooling_v2_forward_desc_init(desc, dnnl_h.dnnl_forward_training(), algorithm(), src, dst, strides,
                        kernel, dilation, left, right)
                : dnnl_h.dnnl_pooling_v2_backward_desc_init(desc, algorithm(), src, dst, strides, kernel, dilation, left, right);
        DnnlRuntime.check(status, "dnnl_pooling_v2_desc_init for " + g);
        return desc;
    }

    @Override
    protected void doForward(Tensor x, Tensor y) {
        forward.bind(0, x.memory());
        forward.bind(1, y.memory());
        if (workspace != null) {
            forward.bind(2, workspace.memory());
        }
        forward.execute();
    }

    /** Max pooling's backward reads the workspace of the last forward, which the layer ran on {@code x}. */
    @Override
    protected void doBackward(Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        backward.bind(0, gradOutput.memory());
        backward.bind(1, gradInput.memory());
        if (workspace != null) {
            backward.bind(2, workspace.memory());
        }
        backward.execute();
    }

    @Override
    public void close() {
        forward.close();
        backward.close();
        if (workspace != null) {
            workspace.close();
        }
        arena.close();
    }
}
