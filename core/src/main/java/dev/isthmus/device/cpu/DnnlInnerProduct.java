package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.InnerProductPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Mixed precision's linear layer through oneDNN's inner product on BF16 operands (its
 * avx512_core_bf16 / AMX GEMMs, F32 accumulation). As in {@link DnnlConvolution}, a reorder
 * converts the F32 master weights into the BF16 format each primitive chose, and the F32 weight
 * gradient the primitive writes is added into the layer's by a reorder with a sum post-op. All
 * three primitives and their buffers are made with the plan, so a model's memory plan holds them.
 */
final class DnnlInnerProduct extends InnerProductPlan {
    private final CpuDevice cpu;
    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private final DnnlPrimitive forward;
    private final DnnlPrimitive forwardWeightReorder;
    private final Tensor forwardWeights;
    private final DnnlPrimitive backwardData;
    private final DnnlPrimitive backwardDataWeightReorder;
    private final Tensor backwardDataWeights;
    private final DnnlPrimitive backwardWeights;
    private final DnnlPrimitive gradientReorder;
    private final Tensor gradient;
    private final Tensor biasGradient;
    private final Tensor zeroBias;

    DnnlInnerProduct(CpuDevice cpu, DnnlRuntime dnnl, int batch, int inFeatures, int outFeatures, DType operands) {
        super(cpu, batch, inFeatures, outFeatures, operands);
        this.cpu = cpu;
        this.dnnl = dnnl;
        MemorySegment userWeights = dnnl.descriptor(arena, new int[] {outFeatures, inFeatures}, dnnl_h.dnnl_ab());
        MemorySegment bias = dnnl.descriptor(arena, new int[] {outFeatures}, dnnl_h.dnnl_a());
        MemorySegment lowInput = dnnl.descriptor(arena, new int[] {batch, inFeatures}, dnnl_h.dnnl_ab(), operands);
        MemorySegment lowOutput = dnnl.descriptor(arena, new int[] {batch, outFeatures}, dnnl_h.dnnl_ab(), operands);
        MemorySegment input = dnnl.descriptor(arena, new int[] {batch, inFeatures}, dnnl_h.dnnl_ab());
        MemorySegment output = dnnl.descriptor(arena, new int[] {batch, outFeatures}, dnnl_h.dnnl_ab());
        MemorySegment anyLowWeights = dnnl.descriptor(arena, new int[] {outFeatures, inFeatures}, dnnl_h.dnnl_format_tag_any(), operands);
        MemorySegment anyWeights = dnnl.descriptor(arena, new int[] {outFeatures, inFeatures}, dnnl_h.dnnl_format_tag_any());
        String shape = "[" + batch + ", " + inFeatures + "] -> [" + batch + ", " + outFeatures + "] in " + operands;

        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        DnnlRuntime.check(dnnl_h.dnnl_inner_product_forward_desc_init(desc, dnnl_h.dnnl_forward_training(), lowInput, anyLowWeights,
                bias, output), "dnnl_inner_product_forward_desc_init " + shape);
        forward = DnnlPrimitive.create(dnnl, "inner product forward", desc, dnnl.plainAttributes(), null,
                new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_BIAS(), dnnl_h.DNNL_ARG_DST()},
                new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_weights_md(),
                    dnnl_h.dnnl_query_dst_md()}, new int[] {0, 0, 1, 0});
        forwardWeightReorder = DnnlReorder.create(dnnl, "inner product weights", userWeights,
                forward.descriptor(dnnl_h.dnnl_query_weights_md(), 0), false);
        forwardWeights = buffer(forward.bytes(dnnl_h.dnnl_query_weights_md(), 0));

        MemorySegment dataDesc = DnnlRuntime.operationDescriptor(arena);
        DnnlRuntime.check(dnnl_h.dnnl_inner_product_backward_data_desc_init(dataDesc, input, anyLowWeights, lowOutput),
                "dnnl_inner_product_backward_data_desc_init " + shape);
        backwardData = DnnlPrimitive.create(dnnl, "inner product backward data", dataDesc, dnnl.plainAttributes(),
                forward.primitiveDesc(),
                new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_diff_src_md()},
                new int[] {0, 0, 0});
        backwardDataWeightReorder = DnnlReorder.create(dnnl, "inner product weights", userWeights,
                backwardData.descriptor(dnnl_h.dnnl_query_weights_md(), 0), false);
        backwardDataWeights = buffer(backwardData.bytes(dnnl_h.dnnl_query_weights_md(), 0));

        MemorySegment weightsDesc = DnnlRuntime.operationDescriptor(arena);
        DnnlRuntime.check(dnnl_h.dnnl_inner_product_backward_weights_desc_init(weightsDesc, lowInput, anyWeights, bias, lowOutput),
                "dnnl_inner_product_backward_weights_desc_init " + shape);
        backwardWeights = DnnlPrimitive.create(dnnl, "inner product backward weights", weightsDesc, dnnl.plainAttributes(),
                forward.primitiveDesc(),
                new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_WEIGHTS(), dnnl_h.DNNL_ARG_DIFF_BIAS()},
                new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_weights_md(),
                    dnnl_h.dnnl_query_diff_weights_md()}, new int[] {0, 0, 0, 1});
        // The primitive overwrites its output; the reorder's sum post-op accumulates it into the layer's gradient.
        gradientReorder = DnnlReorder.create(dnnl, "inner product weight gradient",
                backwardWeights.descriptor(dnnl_h.dnnl_query_diff_weights_md(), 0), userWeights, true);
        gradient = buffer(backwardWeights.bytes(dnnl_h.dnnl_query_diff_weights_md(), 0));
        biasGradient = cpu.allocate(Shape.of(outFeatures));
        zeroBias = cpu.allocate(Shape.of(outFeatures));
    }

    /** A buffer of at least {@code bytes}, whatever type the primitive stores in it. */
    private Tensor buffer(long bytes) {
        return cpu.allocate(Shape.of(Math.toIntExact((bytes + Float.BYTES - 1) / Float.BYTES)));
    }

    /** Converts the F32 master weights into the low-precision copy {@code reorder} targets. */
    private static void refresh(DnnlPrimitive reorder, Tensor weight, Tensor copy) {
        reorder.bind(0, weight.memory());
        reorder.bind(1, copy.memory());
        reorder.execute();
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        refresh(forwardWeightReorder, weight, forwardWeights);
        if (bias == null) {
            // The primitive was made with a bias; a layer without one passes zeros.
            zeroBias.memory().fill((byte) 0);
        }
        forward.bind(0, x.memory());
        forward.bind(1, forwardWeights.memory());
        forward.bind(2, (bias == null ? zeroBias : bias).memory());
        forward.bind(3, y.memory());
        forward.execute();
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        refresh(backwardDataWeightReorder, weight, backwardDataWeights);
        backwardData.bind(0, gradOutput.memory());
        backwardData.bind(1, backwardDataWeights.memory());
        backwardData.bind(2, gradInput.memory());
        backwardData.execute();
    }

    @Override
    protected void doBackwardWeights(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        backwardWeights.bind(0, x.memory());
        backwardWeights.bind(1, gradOutput.memory());
        backwardWeights.bind(2, gradient.memory());
        backwardWeights.bind(3, biasGradient.memory());
        backwardWeights.execute();
        gradientReorder.bind(0, gradient.memory());
        gradientReorder.bind(1, weightGrad.memory());
        gradientReorder.execute();
        if (biasGrad != null) {
            MemorySegment produced = biasGradient.memory();
            MemorySegment accumulated = biasGrad.memory();
            for (int c = 0; c < outFeatures; c++) {
                accumulated.setAtIndex(ValueLayout.JAVA_FLOAT, c, accumulated.getAtIndex(ValueLayout.JAVA_FLOAT, c)
                        + produced.getAtIndex(ValueLayout.JAVA_FLOAT, c));
            }
        }
    }

    @Override
    public void close() {
        forward.close();
        forwardWeightReorder.close();
        backwardData.close();
        backwardDataWeightReorder.close();
        backwardWeights.close();
        gradientReorder.close();
        for (Tensor tensor : new Tensor[] {forwardWeights, backwardDataWeights, gradient, biasGradient, zeroBias}) {
            tensor.close();
        }
        arena.close();
    }
}
