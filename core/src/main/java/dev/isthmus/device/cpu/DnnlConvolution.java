package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Convolution through oneDNN. Activations stay in their layout (channels-last is what its AVX-512
 * kernels want); weights are reordered every step into the blocked format each primitive chose
 * (weights are small), and the weight gradient is reordered back with a sum post-op so that it
 * accumulates into the layer's gradient, as the ConvolutionPlan contract requires. Primitives for
 * the device's activation layouts are made by {@link #prepare}, others on first use, once.
 *
 * <p>With BF16 operands, the input and output gradient arrive in BF16, and the weight reorders
 * convert the F32 master weights into the BF16 blocked copy the primitives read (one pass, as
 * before); the weight gradient comes out in F32, which oneDNN's BF16 kernels (avx512_core_bf16,
 * AMX) accumulate in F32 anyway, and the output and the input gradient in the type of the tensor
 * given (F32, or BF16 inside a run of layers the model keeps in BF16).
 */
final class DnnlConvolution extends ConvolutionPlan {
    private final CpuDevice cpu;
    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment userWeights;
    private final MemorySegment userBias;
    private Forward forward;
    private BackwardData backwardData;
    private BackwardWeights backwardWeights;

    DnnlConvolution(CpuDevice cpu, DnnlRuntime dnnl, ConvGeometry geometry) {
        this(cpu, dnnl, geometry, DType.F32);
    }

    DnnlConvolution(CpuDevice cpu, DnnlRuntime dnnl, ConvGeometry geometry, DType operands) {
        super(cpu, geometry, operands);
        this.cpu = cpu;
        this.dnnl = dnnl;
        this.userWeights = dnnl.descriptor(arena, weightDims(), geometry.groups() > 1 ? dnnl_h.dnnl_goihw() : dnnl_h.dnnl_oihw());
        this.userBias = dnnl.descriptor(arena, new int[] {geometry.outChannels()}, dnnl_h.dnnl_a());
    }

    /** OIHW, or GOIHW for grouped convolutions (the same memory, split by group). */
    private int[] weightDims() {
        ConvGeometry g = geometry;
        int groups = g.groups();
        return groups > 1
                ? new int[] {groups, g.outChannels() / groups, g.inChannels() / groups, g.kernelHeight(), g.kernelWidth()}
                : new int[] {g.outChannels(), g.inChannels(), g.kernelHeight(), g.kernelWidth()};
    }

    private MemorySegment anyWeights(DType dtype) {
        return dnnl.descriptor(arena, weightDims(), dnnl_h.dnnl_format_tag_any(), dtype);
    }

    /** The descriptor of an operation between src/dst of the given layouts; {@code written} is the type of what it writes. */
    private MemorySegment opDescriptor(int kind, Layout x, Layout y, boolean bias, DType written) {
        ConvGeometry g = geometry;
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        DType low = operandType();
        // Read operands (input, output gradient, weights) are in the operand type; the output and
        // the input gradient in {@code written}, the weight gradient in F32.
        MemorySegment src = dnnl.descriptor(arena, g.inputShape(), x, kind == 1 ? written : low);
        MemorySegment dst = dnnl.descriptor(arena, g.outputShape(), y, kind == 0 ? written : low);
        MemorySegment weights = anyWeights(kind == 2 ? DType.F32 : low);
        MemorySegment biasDesc = bias ? userBias : MemorySegment.NULL;
        MemorySegment strides = DnnlRuntime.dims(arena, g.strideHeight(), g.strideWidth());
        // oneDNN counts dilation from 0; its output-size check floors as PyTorch does, so the
        // right padding can equal the left.
        MemorySegment dilates = DnnlRuntime.dims(arena, g.dilationHeight() - 1, g.dilationWidth() - 1);
        MemorySegment padding = DnnlRuntime.dims(arena, g.padHeight(), g.padWidth());
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

    /** A buffer of at least {@code bytes} (in F32 elements, whatever the primitive stores in it). */
    private Tensor buffer(long bytes) {
        return cpu.allocate(Shape.of(Math.toIntExact((bytes + Float.BYTES - 1) / Float.BYTES)));
    }

    /** Whether the primitive wants the weights in another format (or type) than the user's F32 OIHW. */
    private static boolean needsReorder(MemorySegment wanted, MemorySegment user) {
        return dnnl_h.dnnl_memory_desc_equal(wanted, user) == 0;
    }

    /** The forward primitive, with its weight reorder, for one pair of layouts. */
    private final class Forward implements AutoCloseable {
        final Layout x;
        final Layout y;
        final DType yType;
        final boolean bias;
        final DnnlPrimitive primitive;
        final DnnlPrimitive weightReorder;
        final Tensor weights;

        Forward(Layout x, Layout y, DType yType, boolean bias) {
            this.x = x;
            this.y = y;
            this.yType = yType;
            this.bias = bias;
            int[] kinds = bias ? new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST(), dnnl_h.DNNL_ARG_BIAS()}
                    : new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DST()};
            int[] queries = bias ? new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_dst_md(),
                    dnnl_h.dnnl_query_weights_md()}
                    : new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_dst_md()};
            int[] indexes = bias ? new int[] {0, 0, 0, 1} : new int[] {0, 0, 0};
            primitive = DnnlPrimitive.create(dnnl, "convolution forward", opDescriptor(0, x, y, bias, yType), dnnl.plainAttributes(),
                    null, kinds, queries, indexes);
            MemorySegment wanted = primitive.descriptor(dnnl_h.dnnl_query_weights_md(), 0);
            if (needsReorder(wanted, userWeights)) {
                weightReorder = DnnlReorder.create(dnnl, "convolution weights", userWeights, wanted, false);
                weights = buffer(primitive.bytes(dnnl_h.dnnl_query_weights_md(), 0));
            } else {
                weightReorder = null;
                weights = null;
            }
        }

        @Override
        public void close() {
            primitive.close();
            if (weightReorder != null) {
                weightReorder.close();
                weights.close();
            }
        }
    }

    private final class BackwardData implements AutoCloseable {
        final Layout dy;
        final Layout dx;
        final DType dxType;
        final DnnlPrimitive primitive;
        final DnnlPrimitive weightReorder;
        final Tensor weights;

        BackwardData(Layout dy, Layout dx, DType dxType) {
            this.dy = dy;
            this.dx = dx;
            this.dxType = dxType;
            Forward hint = hintFor(dx, dy);
            primitive = DnnlPrimitive.create(dnnl, "convolution backward data", opDescriptor(1, dx, dy, false, dxType),
                    dnnl.plainAttributes(), hint.primitive.primitiveDesc(),
                    new int[] {dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_WEIGHTS(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                    new int[] {dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_weights_md(), dnnl_h.dnnl_query_diff_src_md()},
                    new int[] {0, 0, 0});
            MemorySegment wanted = primitive.descriptor(dnnl_h.dnnl_query_weights_md(), 0);
            if (needsReorder(wanted, userWeights)) {
                weightReorder = DnnlReorder.create(dnnl, "convolution weights", userWeights, wanted, false);
                weights = buffer(primitive.bytes(dnnl_h.dnnl_query_weights_md(), 0));
            } else {
                weightReorder = null;
                weights = null;
            }
        }

        @Override
        public void close() {
            primitive.close();
            if (weightReorder != null) {
                weightReorder.close();
                weights.close();
            }
        }
    }

    private final class BackwardWeights implements AutoCloseable {
        final Layout x;
        final Layout dy;
        final boolean bias;
        final DnnlPrimitive primitive;
        final DnnlPrimitive gradientReorder;
        final Tensor gradient;
        final Tensor biasGradient;

        BackwardWeights(Layout x, Layout dy, boolean bias) {
            this.x = x;
            this.dy = dy;
            this.bias = bias;
            Forward hint = hintFor(x, dy);
            // The bias gradient comes out of the same pass over dy (a Java sum over NHWC rows costs more than the filter).
            int[] kinds = bias ? new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_WEIGHTS(),
                dnnl_h.DNNL_ARG_DIFF_BIAS()}
                    : new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_WEIGHTS()};
            int[] queries = bias ? new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(),
                dnnl_h.dnnl_query_diff_weights_md(), dnnl_h.dnnl_query_diff_weights_md()}
                    : new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_weights_md()};
            primitive = DnnlPrimitive.create(dnnl, "convolution backward weights", opDescriptor(2, x, dy, bias, DType.F32),
                    dnnl.plainAttributes(), hint.primitive.primitiveDesc(), kinds, queries,
                    bias ? new int[] {0, 0, 0, 1} : new int[] {0, 0, 0});
            biasGradient = bias ? cpu.allocate(Shape.of(geometry.outChannels())) : null;
            MemorySegment produced = primitive.descriptor(dnnl_h.dnnl_query_diff_weights_md(), 0);
            // The primitive overwrites its output; a reorder with a sum post-op adds it to the layer's gradient.
            gradientReorder = DnnlReorder.create(dnnl, "convolution weight gradient", produced, userWeights, true);
            gradient = buffer(primitive.bytes(dnnl_h.dnnl_query_diff_weights_md(), 0));
        }

        @Override
        public void close() {
            primitive.close();
            gradientReorder.close();
            gradient.close();
            if (biasGradient != null) {
                biasGradient.close();
            }
        }
    }

    /** The forward primitive for these layouts and output type (made on first use; remade if they change). */
    private Forward forwardFor(Layout x, Layout y, DType yType, boolean bias) {
        if (forward == null || forward.x != x || forward.y != y || forward.yType != yType || (bias && !forward.bias)) {
            boolean hadBias = forward != null && forward.bias;
            if (forward != null) {
                forward.close();
            }
            forward = new Forward(x, y, yType, bias || hadBias);
        }
        return forward;
    }

    /** The forward primitive a backward one is hinted with: the current one when its layouts fit (whatever it writes). */
    private Forward hintFor(Layout x, Layout y) {
        return forward != null && forward.x == x && forward.y == y ? forward : forwardFor(x, y, DType.F32, false);
    }

    @Override
    protected void doForward(Tensor x, Tensor weight, Tensor bias, Tensor y) {
        Forward f = forwardFor(x.layout(), y.layout(), y.dtype(), bias != null);
        Tensor weights = weight;
        if (f.weightReorder != null) {
            f.weightReorder.bind(0, weight.memory());
            f.weightReorder.bind(1, f.weights.memory());
            f.weightReorder.execute();
            weights = f.weights;
        }
        f.primitive.bind(0, x.memory());
        f.primitive.bind(1, weights.memory());
        f.primitive.bind(2, y.memory());
        if (f.bias) {
            if (bias == null) {
                // A primitive made with a bias serves a call without one through a zero bias.
                cpu.elementwise().fill(zeroBias(), 0f);
                f.primitive.bind(3, zeroBias().memory());
            } else {
                f.primitive.bind(3, bias.memory());
            }
        }
        f.primitive.execute();
    }

    private Tensor zeroBias;

    private Tensor zeroBias() {
        if (zeroBias == null) {
            zeroBias = cpu.allocate(Shape.of(geometry.outChannels()));
        }
        return zeroBias;
    }

    /** The backward-data primitive for these layouts and input-gradient type (made once; remade if they change). */
    private BackwardData backwardDataFor(Layout dy, Layout dx, DType dxType) {
        if (backwardData == null || backwardData.dy != dy || backwardData.dx != dx || backwardData.dxType != dxType) {
            if (backwardData != null) {
                backwardData.close();
            }
            backwardData = new BackwardData(dy, dx, dxType);
        }
        return backwardData;
    }

    /** The backward-weights primitive for these layouts and bias (made once; remade if they change). */
    private BackwardWeights backwardWeightsFor(Layout x, Layout dy, boolean bias) {
        if (backwardWeights == null || backwardWeights.x != x || backwardWeights.dy != dy || backwardWeights.bias != bias) {
            if (backwardWeights != null) {
                backwardWeights.close();
            }
            backwardWeights = new BackwardWeights(x, dy, bias);
        }
        return backwardWeights;
    }

    /** The three primitives for the device's activation layouts, and their buffers, made now. */
    @Override
    protected void doPrepare(boolean bias) {
        doPrepare(bias, DType.F32, DType.F32);
    }

    @Override
    protected void doPrepare(boolean bias, DType output, DType gradInput) {
        Layout x = cpu.activationLayout(geometry.inputShape());
        Layout y = cpu.activationLayout(geometry.outputShape());
        forwardFor(x, y, output, bias);
        backwardDataFor(y, x, gradInput);
        backwardWeightsFor(x, y, bias);
    }

    @Override
    protected void doBackwardData(Tensor gradOutput, Tensor weight, Tensor gradInput) {
        BackwardData b = backwardDataFor(gradOutput.layout(), gradInput.layout(), gradInput.dtype());
        Tensor weights = weight;
        if (b.weightReorder != null) {
            b.weightReorder.bind(0, weight.memory());
            b.weightReorder.bind(1, b.weights.memory());
            b.weightReorder.execute();
            weights = b.weights;
        }
        b.primitive.bind(0, gradOutput.memory());
        b.primitive.bind(1, weights.memory());
        b.primitive.bind(2, gradInput.memory());
        b.primitive.execute();
    }

    @Override
    protected void doBackwardFilter(Tensor x, Tensor gradOutput, Tensor weightGrad, Tensor biasGrad) {
        boolean bias = biasGrad != null;
        BackwardWeights b = backwardWeightsFor(x.layout(), gradOutput.layout(), bias);
        b.primitive.bind(0, x.memory());
        b.primitive.bind(1, gradOutput.memory());
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
