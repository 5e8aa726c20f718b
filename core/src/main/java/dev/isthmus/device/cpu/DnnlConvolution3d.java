package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.bindings.dnnl.dnnl_memory_desc_t;
import dev.isthmus.device.Conv3dGeometry;
import dev.isthmus.device.Convolution3dPlan;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 3-D convolution through oneDNN's convolution primitives, as {@link DnnlConvolution} does in 2-D:
 * weights are reordered every call into the blocked format each primitive chose, and the weight
 * gradient is reordered back with a sum post-op so that it accumulates. Volumes are row-major
 * (NCDHW) on the CPU, on which oneDNN has only its im2col kernels (measured: 0.2 GFLOP/s for
 * C3D's first layer); so each primitive chooses its activation formats too (its blocked nCdhw16c
 * direct kernels), and the volumes are reordered into and out of them around every call. The
 * primitives and their buffers are made once, by {@link #prepare} or the first call.
 */
final class DnnlConvolution3d extends Convolution3dPlan {
    private final CpuDevice cpu;
    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment userWeights;
    private final MemorySegment userBias;
    private Reordered forward;
    private boolean forwardHasBias;
    private Reordered backwardData;
    private BackwardWeights backwardWeights;
    private Tensor zeroBias;

    DnnlConvolution3d(CpuDevice cpu, DnnlRuntime dnnl, Conv3dGeometry geometry) {
        super(cpu, geometry);
        this.cpu = cpu;
        this.dnnl = dnnl;
        this.userWeights = rowMajorDescriptor(weightDims());
        this.userBias = dnnl.descriptor(arena, new int[] {geometry.outChannels()}, dnnl_h.dnnl_a());
    }

    /** OIDHW, or GOIDHW for grouped convolutions (the same memory, split by group). */
    private int[] weightDims() {
        Conv3dGeometry g = geometry;
        int groups = g.groups();
        int[] k = g.kernel().toArray();
        return groups > 1
                ? new int[] {groups, g.outChannels() / groups, g.inChannels() / groups, k[0], k[1], k[2]}
                : new int[] {g.outChannels(), g.inChannels(), k[0], k[1], k[2]};
    }

    /** A plain row-major descriptor of any rank (the bindings carry format tags up to rank 5 only). */
    private MemorySegment rowMajorDescriptor(int[] dims) {
        long[] strides = new long[dims.length];
        long stride = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= dims[i];
        }
        MemorySegment strideArray = arena.allocate(ValueLayout.JAVA_LONG, 12);
        for (int i = 0; i < strides.length; i++) {
            strideArray.setAtIndex(ValueLayout.JAVA_LONG, i, strides[i]);
        }
        MemorySegment md = arena.allocate(dnnl_memory_desc_t.layout());
        DnnlRuntime.check(dnnl_h.dnnl_memory_desc_init_by_strides(md, dims.length, DnnlRuntime.dims(arena, dims),
                dnnl_h.dnnl_f32(), strideArray), "dnnl_memory_desc_init_by_strides (conv3d weights " + geometry + ")");
        return md;
    }

    /** The descriptor of a forward (0), backward-data (1) or backward-weights (2) operation. */
    private MemorySegment opDescriptor(int kind, boolean bias) {
        Conv3dGeometry g = geometry;
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        MemorySegment src = dnnl.descriptor(arena, g.inputShape().dims(), dnnl_h.dnnl_format_tag_any());
        MemorySegment dst = dnnl.descriptor(arena, g.outputShape().dims(), dnnl_h.dnnl_format_tag_any());
        MemorySegment weights = dnnl.descriptor(arena, weightDims(), dnnl_h.dnnl_format_tag_any());
        MemorySegment biasDesc = bias ? userBias : MemorySegment.NULL;
        MemorySegment strides = DnnlRuntime.dims(arena, g.stride().toArray());
        // oneDNN counts dilation from 0.
        MemorySegment dilates = DnnlRuntime.dims(arena, g.dilation().depth() - 1, g.dilation().height() - 1,
                g.dilation().width() - 1);
        MemorySegment padding = DnnlRuntime.dims(arena, g.padding().toArray());
        int alg = dnnl_h.dnnl_convolution_direct();
        int status;
        String name;
        if (kind == 0) {
            name = "dnnl_dilated_convolution_forward_desc_init";
            status = dnnl_h.dnnl_dilated_convolution_forward_desc_init(desc, dnnl_h.dnnl_forward_training(), alg, src, weights,
                    biasDesc, dst, strides, dilates, padding, padding);
        } else if (kind == 1) {
            name = "dnnl_dilated_convolution_backward_data_desc_init";
            status = dnnl_h.dnnl_dilated_convolution_backward_data_desc_init(desc, alg, src, weights, dst, strides, dilates,
                    padding, padding);
        } else {
            name = "dnnl_dilated_convolution_backward_weights_desc_init";
            status = dnnl_h.dnnl_dilated_convolution_backward_weights_desc_init(desc, alg, src, weights, biasDesc, dst, strides,
                    dilates, padding, padding);
        }
        DnnlRuntime.check(status, name + " for " + g);
        return desc;
    }

    /**
     * One activation argument of a primitive: the primitive's own buffer and the reorder between
     * it and the NCDHW tensor, or neither when the primitive took NCDHW itself.
     */
    private final class Boundary implements AutoCloseable {
        final DnnlPrimitive reorder;
        final Tensor buffer;
        final boolean into;

        /** {@code into}: NCDHW to the primitive's format (an input); else back (an output). */
        Boundary(DnnlPrimitive primitive, int query, Shape shape, boolean into) {
            this.into = into;
            MemorySegment wanted = primitive.descriptor(query, 0);
            MemorySegment user = dnnl.descriptor(arena, shape.dims(), dnnl_h.dnnl_abcde());
            if (dnnl_h.dnnl_memory_desc_equal(wanted, user) != 0) {
                reorder = null;
                buffer = null;
                return;
            }
            reorder = into ? DnnlReorder.create(dnnl, "conv3d activations in", user, wanted, false)
                    : DnnlReorder.create(dnnl, "conv3d activations out", wanted, user, false);
            buffer = cpu.allocate(Shape.of(Math.toIntExact((primitive.bytes(query, 0) + Float.BYTES - 1) / Float.BYTES)));
        }

        /** The memory the primitive reads: the tensor itself, or its reordered copy. */
        MemorySegment in(Tensor tensor) {
            if (reorder == null) {
                return tensor.memory();
            }
            reorder.bind(0, tensor.memory());
            reorder.bind(1, buffer.memory());
            reorder.execute();
            return buffer.memory();
        }

        /** The memory the primitive writes for {@code tensor}; {@link #out} then copies it there. */
        MemorySegment target(Tensor tensor) {
            return reorder == null ? tensor.memory() : buffer.memory();
        }

        void out(Tensor tensor) {
            if (reorder != null) {
                reorder.bind(0, buffer.memory());
                reorder.bind(1, tensor.memory());
                reorder.execute();
            }
        }

        @Override
        public void close() {
            if (reorder != null) {
                reorder.close();
                buffer.close();
            }
        }
    }

    /** A primitive that reads the weights, with the reorder into its format when it wants another. */
    private final class Reordered implements AutoCloseable {
        final DnnlPrimitive primitive;
        final DnnlPrimitive weightReorder;
        final Tensor weights;
        final Boundary input;
        final Boundary output;

        /** {@code input}/{@code output}: the queries and shapes of the activation read and the one written. */
        Reordered(DnnlPrimitive primitive, int inputQuery, Shape inputShape, int outputQuery, Shape outputShape) {
            this.primitive = primitive;
            this.input = new Boundary(primitive, inputQuery, inputShape, true);
            this.output = new Boundary(primitive, outputQuery, outputShape, false);
            MemorySegment wanted = primitive.descriptor(dnnl_h.dnnl_query_weights_md(), 0);
            if (dnnl_h.dnnl_memory_desc_equal(wanted, userWeights) == 0) {
                weightReorder = DnnlReorder.create(dnnl, "conv3d weights", userWeights, wanted, false);
                weights = cpu.allocate(Shape.of(Math.toIntExact(primitive.bytes(dnnl_h.dnnl_query_weights_md(), 0) / Float.BYTES)));
            } else {
                weightReorder = null;
                weights = null;
            }
        }

        /** The weights in the primitive's format. */
        Tensor weightsFrom(Tensor weight) {
            if (weightReorder == null) {
                return weight;
            }
            weightReorder.bind(0, weight.memory());
            weightReorder.bind(1, weights.memory());
            weightReorder.execute();
            return weights;
        }

        @Override
        public void close() {
            primitive.close();
            input.close();
            output.close();
            if (weightReorder != null) {
                weightReorder.close();
                weights.close();
            }
        }
    }

    private final class BackwardWeights implements AutoCloseable {
        final boolean bias;
        final DnnlPrimitive primitive;
        final DnnlPrimitive gradientReorder;
        final Tensor gradient;
        final Tensor biasGradient;
        final Boundary input;
        final Boundary gradOutput;

        BackwardWeights(boolean bias) {
            this.bias = bias;
            int[] kinds = bias ? new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_WEIGHTS(),
                dnnl_h.DNNL_ARG_DIFF_BIAS()}
                    : new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_WEIGHTS()};
            int[] queries = bias ? new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(),
                dnnl_h.dnnl_query_diff_weights_md(), dnnl_h.dnnl_query_diff_weights_md()}
                    : new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_weights_md()};
            primitive = DnnlPrimitive.create(dnnl, "conv3d backward weights", opDescriptor(2, bias), dnnl.plainAttributes(),
                    forwardFor(false).primitive.primitiveDesc(), kinds, queries, bias ? new int[] {0, 0, 0, 1} : new int[] {0, 0, 0});
            biasGradient = bias ? cpu.allocate(Shape.of(geometry.outChannels())) : null;
            input = new Boundary(primitive, dnnl_h.dnnl_query_src_md(), geometry.inputShape(), true);
            gradOutput = new Boundary(primitive, dnnl_h.dnnl_query_diff_dst_md(), geometry.outputShape(), true);
            MemorySegment produced = primitive.descriptor(dnnl_h.dnnl_query_diff_weights_md(), 0);
            // The primitive overwrites its output; a reorder with a sum post-op adds it to the layer's gradient.
            gradientReorder = DnnlReorder.create(dnnl, "conv3d weight gradient", produced, userWeights, true);
            gradient = cpu.allocate(Shape.of(Math.toIntExact(primitive.bytes(dnnl_h.dnnl_query_diff_weights_md(), 0) / Float.BYTES)));
        }

        @Override
        public void close() {
            primitive.close();
            input.close();
            gradOutput.close();
            gradientReorder.close();
            gradient.close();
            if (biasGradient != null) {
                biasGradient.close();
            }
        }
    }

    /** The forward primitive, made with a bias argument once any call has needed one. */
    private Reordered forwardFor(boolean bias) {
        if (forward == null || (bias && !forwardHasBias)) {
            if (forward != null) {
                forward.close();
            }
            int[] kinds = bias ? new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_BIAS()}
                    : new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()};
            int[] queries = bias ? new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_dst_md(),
                dnnl_h.dnnl_query_weights_md()}
                    : new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_dst_md()};
            forward = new Reordered(DnnlPrimitive.create(dnnl, "conv3d forward", opDescriptor(0, bias), dnnl.plainAttributes(),
                    null, kinds, queries, bias ? new int[] {0, 0, 0, 1} : new int[] {0, 0, 0}),
                    dnnl_h.dnnl_query_src_md(), geometry.inputShape(), dnnl_h.dnnl_query_dst_md(), geometry.outputShape());
            forwardHasBias = bias;
        }
        return forward;
    }

    private Reordered backwardDataPrimitive() {
        if (backwardData == null) {
            backwardData = new Reordered(DnnlPrimitive.create(dnnl, "conv3d backward data", opDescriptor(1, false),
                    dnnl.plainAttributes(), forwardFor(false).primitive.primitiveDesc(),
                    new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                    new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_diff_src_md()},
                    new int[] {0, 0, 0}),
                    dnnl_h.dnnl_query_diff_dst_md(), geometry.outputShape(), dnnl_h.dnnl_query_diff_src_md(), geometry.inputShape());
        }
        return backwardData;
    }

    private BackwardWeights backwardWeightsFor(boolean bias) {
        if (backwardWeights == null || backwardWeights.bias != bias) {
            if (backwardWeights != null) {
                backwardWeights.close();
            }
            backwardWeights = new BackwardWeights(bias);
        }
        return backwardWeights;
    }

    @Override
    protected void doPrepare(boolean bias) {
        forwardFor(bias);
        backwardDataPrimitive();
        backwardWeightsFor(bias);
        if (bias) {
            zeroBias();
        }
    }

    private Tensor zeroBias() {
        if (zeroBias == null) {
            zeroBias = cpu.allocate(Shape.of(geometry.outChannels()));
        }
        return zeroBias;
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        Reordered f = forwardFor(bias != null);
        Tensor weights = f.weightsFrom(weight);
        f.primitive.bind(0, f.input.in(x));
        f.primitive.bind(1, weights.memory());
        f.primitive.bind(2, f.output.target(y));
        if (forwardHasBias) {
            // A primitive made with a bias serves a call without one through a zero bias.
            if (bias == null) {
                cpu.elementwise().fill(zeroBias(), 0f);
            }
            f.primitive.bind(3, (bias == null ? zeroBias() : bias).memory());
        }
        f.primitive.execute();
        f.output.out(y);
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        Reordered b = backwardDataPrimitive();
        Tensor weights = b.weightsFrom(weight);
        b.primitive.bind(0, b.input.in(gradOutput));
        b.primitive.bind(1, weights.memory());
        b.primitive.bind(2, b.output.target(gradInput));
        b.primitive.execute();
        b.output.out(gradInput);
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        boolean bias = biasGrad != null;
        BackwardWeights b = backwardWeightsFor(bias);
        b.primitive.bind(0, b.input.in(x));
        b.primitive.bind(1, b.gradOutput.in(gradOutput));
        b.primitive.bind(2, b.gradient.memory());
        if (bias) {
            b.primitive.bind(3, b.biasGradient.memory());
        }
        b.primitive.execute();
        b.gradientReorder.bind(0, b.gradient.memory());
        b.gradientReorder.bind(1, weightGrad.memory());
        b.gradientReorder.execute();
        if (bias) {
            MemorySegment produced = b.biasGradient.memory();
            MemorySegment accumulated = biasGrad.memory();
            for (int c = 0; c < geometry.outChannels(); c++) {
                accumulated.setAtIndex(ValueLayout.JAVA_FLOAT, c, accumulated.getAtIndex(ValueLayout.JAVA_FLOAT, c)
                        + produced.getAtIndex(ValueLayout.JAVA_FLOAT, c));
            }
        }
    }

    @Override
    public void close() {
        if (forward != null) {
            forward.close();
        }
        if (backwardData != null) {
            backwardData.close();
        }
        if (backwardWeights != null) {
            backwardWeights.close();
        }
        if (zeroBias != null) {
            zeroBias.close();
        }
        arena.close();
    }
}
