package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.PoolingPlan;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Pooling through oneDNN. Max pooling keeps oneDNN's workspace (where each maximum came from) from
 * the forward for the backward. Average pooling with padding counted divides by the full window,
 * which equals PyTorch's count_include_pad divisor whenever the output size is floored.
 */
final class DnnlPooling extends PoolingPlan {
    private final CpuDevice cpu;
    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private Layout forwardLayout;
    private DnnlPrimitive forward;
    private Tensor workspace;
    private Layout backwardLayout;
    private DnnlPrimitive backward;

    DnnlPooling(CpuDevice cpu, DnnlRuntime dnnl, PoolGeometry geometry) {
        super(cpu, geometry);
        this.cpu = cpu;
        this.dnnl = dnnl;
        // Made now for the layout a model's activations have, so that the workspace is part of its memory plan.
        prepareForward(cpu.activationLayout(geometry.inputShape()));
    }

    private int algorithm() {
        return switch (geometry.mode()) {
            case MAX -> dnnl_h.dnnl_pooling_max();
            case AVERAGE_INCLUDE_PADDING -> dnnl_h.dnnl_pooling_avg_include_padding();
            case AVERAGE_EXCLUDE_PADDING -> dnnl_h.dnnl_pooling_avg_exclude_padding();
        };
    }

    private MemorySegment opDescriptor(boolean forwardPass, Layout layout) {
        PoolGeometry g = geometry;
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        MemorySegment src = dnnl.descriptor(arena, g.inputShape(), layout);
        MemorySegment dst = dnnl.descriptor(arena, g.outputShape(), layout);
        MemorySegment strides = DnnlRuntime.dims(arena, g.strideHeight(), g.strideWidth());
        MemorySegment kernel = DnnlRuntime.dims(arena, g.kernelHeight(), g.kernelWidth());
        MemorySegment dilation = DnnlRuntime.dims(arena, 0, 0);
        MemorySegment padding = DnnlRuntime.dims(arena, g.padHeight(), g.padWidth());
        // Ceil mode: the last window's overhang is extra padding on the bottom and right (max pooling only here).
        MemorySegment paddingEnd = DnnlRuntime.dims(arena, g.padHeight() + g.extraPadBottom(), g.padWidth() + g.extraPadRight());
        int status = forwardPass
                ? dnnl_h.dnnl_pooling_v2_forward_desc_init(desc, dnnl_h.dnnl_forward_training(), algorithm(), src, dst, strides,
                        kernel, dilation, padding, paddingEnd)
                : dnnl_h.dnnl_pooling_v2_backward_desc_init(desc, algorithm(), src, dst, strides, kernel, dilation, padding,
                        paddingEnd);
        DnnlRuntime.check(status, "dnnl_pooling_v2_desc_init for " + g);
        return desc;
    }

    private boolean max() {
        return geometry.mode() == PoolMode.MAX;
    }

    private void prepareForward(Layout layout) {
        if (forward != null && forwardLayout == layout) {
            return;
        }
        closeForward();
        int[] kinds = max() ? new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_WORKSPACE()}
                : new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()};
        int[] queries = max() ? new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md(), dnnl_h.dnnl_query_workspace_md()}
                : new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md()};
        forward = DnnlPrimitive.create(dnnl, "pooling forward", opDescriptor(true, layout), dnnl.plainAttributes(), null,
                kinds, queries, new int[kinds.length]);
        forwardLayout = layout;
        if (max()) {
            long bytes = forward.bytes(dnnl_h.dnnl_query_workspace_md(), 0);
            workspace = cpu.allocate(Shape.of(Math.toIntExact((bytes + 3) / 4)));
        }
    }

    private void closeForward() {
        if (forward != null) {
            forward.close();
            forward = null;
        }
        if (workspace != null) {
            workspace.close();
            workspace = null;
        }
    }

    // oneDNN pools within one layout: the output's; an input in another layout is converted first.

    @Override
    protected void doForward(Tensor input, Tensor y) {
        Tensor x = cpu.scratch().inLayout(input, y.layout(), CpuScratch.Slot.FIRST_INPUT);
        prepareForward(x.layout());
        forward.bind(0, x.memory());
        forward.bind(1, y.memory());
        if (max()) {
            forward.bind(2, workspace.memory());
        }
        forward.execute();
    }

    @Override
    protected void doBackward(Tensor x, Tensor y, Tensor upstream, Tensor gradInput) {
        Layout layout = gradInput.layout();
        Tensor gradOutput = cpu.scratch().inLayout(upstream, layout, CpuScratch.Slot.SECOND_INPUT);
        if (max() && (forward == null || forwardLayout != layout)) {
            // The workspace comes from a forward in the same layout; run one if the last was different.
            Tensor output = cpu.scratch().get(CpuScratch.Slot.OUTPUT, y.shape(), y.dtype(), layout);
            doForward(x, output);
        }
        if (backward == null || backwardLayout != layout) {
            if (backward != null) {
                backward.close();
            }
            prepareForward(layout);
            int[] kinds = max() ? new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC(), dnnl_h.DNNL_ARG_WORKSPACE()}
                    : new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()};
            int[] queries = max() ? new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_src_md(),
                    dnnl_h.dnnl_query_workspace_md()}
                    : new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_src_md()};
            backward = DnnlPrimitive.create(dnnl, "pooling backward", opDescriptor(false, layout), dnnl.plainAttributes(),
                    forward.primitiveDesc(), kinds, queries, new int[kinds.length]);
            backwardLayout = layout;
        }
        backward.bind(0, gradOutput.memory());
        backward.bind(1, gradInput.memory());
        if (max()) {
            backward.bind(2, workspace.memory());
        }
        backward.execute();
    }

    @Override
    public void close() {
        closeForward();
        if (backward != null) {
            backward.close();
        }
        arena.close();
    }
}
