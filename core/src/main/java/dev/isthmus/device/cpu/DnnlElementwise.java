package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.device.Activation;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * oneDNN's element-wise primitives (activations and their gradients, addition) over flat arrays:
 * when every operand has the same layout the element order does not matter. Primitives are made
 * for each (function, alpha, length) the first time and found again by a scan of a short list,
 * which allocates nothing.
 */
final class DnnlElementwise implements AutoCloseable {
    private static final int FORWARD = 0;
    private static final int BACKWARD = 1;
    private static final int ADD = 2;
    private static final int ADD_RELU = 3;
    /** Conversions: this plus 8 · source ordinal + destination ordinal. */
    private static final int CONVERT = 16;
    /** Moves between NCHW and NHWC: this plus the destination layout's ordinal. */
    private static final int RELAYOUT = 128;

    /** {@code shape} is null except for relayouts, where the element count does not fix the order. */
    /** {@code types}: the element types of its operands, packed by {@link #types}; F32 throughout is 0. */
    private record Entry(int kind, int types, Activation function, int alphaBits, long count, Shape shape, DnnlPrimitive primitive) {
        Entry(int kind, int types, Activation function, int alphaBits, long count, DnnlPrimitive primitive) {
            this(kind, types, function, alphaBits, count, null, primitive);
        }
    }

    private final DnnlRuntime dnnl;
    private final Arena arena = Arena.ofShared();
    private final List<Entry> entries = new ArrayList<>();

    DnnlElementwise(DnnlRuntime dnnl) {
        this.dnnl = dnnl;
    }

    private static int algorithm(Activation function) {
        return switch (function) {
            case RELU, LEAKY_RELU -> dnnl_h.dnnl_eltwise_relu();
            case ELU -> dnnl_h.dnnl_eltwise_elu();
            case SIGMOID -> dnnl_h.dnnl_eltwise_logistic();
            case TANH -> dnnl_h.dnnl_eltwise_tanh();
            case GELU -> dnnl_h.dnnl_eltwise_gelu_erf();
            // DnnlActivations computes it in Java; oneDNN has no step function.
            case BINARY_STEP -> throw new IllegalStateException("oneDNN has no binary step primitive");
        };
    }

    private DnnlPrimitive find(int kind, int types, Activation function, float alpha, long count) {
        return find(kind, types, function, alpha, count, null);
    }

    private DnnlPrimitive find(int kind, int types, Activation function, float alpha, long count, Shape shape) {
        int alphaBits = Float.floatToIntBits(alpha);
        for (int i = 0; i < entries.size(); i++) {
            Entry entry = entries.get(i);
            if (entry.kind == kind && entry.types == types && entry.function == function && entry.alphaBits == alphaBits && entry.count == count
                    && (shape == null || shape.equals(entry.shape))) {
                return entry.primitive;
            }
        }
        return null;
    }

    /** Slots: 0 source, 1 destination. */
    DnnlPrimitive forward(Activation function, float alpha, long count) {
        return forward(function, alpha, count, DType.F32);
    }

    /** The forward on {@code count} elements of {@code type} (F32, or BF16 in a mixed-precision run). */
    DnnlPrimitive forward(Activation function, float alpha, long count, DType type) {
        int types = types(type, type, type);
        DnnlPrimitive found = find(FORWARD, types, function, alpha, count);
        if (found != null) {
            return found;
        }
        DnnlPrimitive made = makeForward(function, alpha, count, type);
        entries.add(new Entry(FORWARD, types, function, Float.floatToIntBits(alpha), count, made));
        return made;
    }

    /** Three operands' element types in one int, for the cache's lookup (allocates nothing; F32 is 0). */
    private static int types(DType first, DType second, DType third) {
        return code(first) | code(second) << 4 | code(third) << 8;
    }

    private static int code(DType type) {
        return type == DType.F32 ? 0 : 1 + type.ordinal();
    }

    private DnnlPrimitive makeForward(Activation function, float alpha, long count, DType type) {
        MemorySegment data = dnnl.flatDescriptor(arena, count, type);
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        DnnlRuntime.check(dnnl_h.dnnl_eltwise_forward_desc_init(desc, dnnl_h.dnnl_forward_training(), algorithm(function), data,
                alpha, 0f), "dnnl_eltwise_forward_desc_init(" + function + ")");
        return DnnlPrimitive.create(dnnl, function + " forward", desc, dnnl.plainAttributes(), null,
                new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DST()},
                new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md()}, new int[2]);
    }

    /** Slots: 0 forward input x, 1 output gradient dy, 2 input gradient dx. */
    DnnlPrimitive backward(Activation function, float alpha, long count) {
        return backward(function, alpha, count, DType.F32);
    }

    /** The backward on {@code count} elements of {@code type}: input, gradients all of it. */
    DnnlPrimitive backward(Activation function, float alpha, long count, DType type) {
        int types = types(type, type, type);
        DnnlPrimitive found = find(BACKWARD, types, function, alpha, count);
        if (found != null) {
            return found;
        }
        DnnlPrimitive hint = forward(function, alpha, count, type);
        MemorySegment data = dnnl.flatDescriptor(arena, count, type);
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        DnnlRuntime.check(dnnl_h.dnnl_eltwise_backward_desc_init(desc, algorithm(function), data, data, alpha, 0f),
                "dnnl_eltwise_backward_desc_init(" + function + ")");
        DnnlPrimitive made = DnnlPrimitive.create(dnnl, function + " backward", desc, dnnl.plainAttributes(), hint.primitiveDesc(),
                new int[] {dnnl_h.DNNL_ARG_SRC(), dnnl_h.DNNL_ARG_DIFF_DST(), dnnl_h.DNNL_ARG_DIFF_SRC()},
                new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_diff_dst_md(), dnnl_h.dnnl_query_diff_src_md()}, new int[3]);
        entries.add(new Entry(BACKWARD, types, function, Float.floatToIntBits(alpha), count, made));
        return made;
    }

    /** Slots: 0 and 1 the addends, 2 the sum. */
    DnnlPrimitive add(long count) {
        return add(count, false);
    }

    /** Slots: 0 and 1 the addends, 2 the sum, through a ReLU when {@code relu} (one pass: a post-op). */
    DnnlPrimitive add(long count, boolean relu) {
        return add(count, relu, DType.F32, DType.F32, DType.F32);
    }

    /** out ← a + b (then ReLU), each F32 or BF16: oneDNN's binary reads and writes mixed types. */
    DnnlPrimitive add(long count, boolean relu, DType a, DType b, DType out) {
        int kind = relu ? ADD_RELU : ADD;
        int types = types(a, b, out);
        DnnlPrimitive found = find(kind, types, null, 0f, count);
        if (found != null) {
            return found;
        }
        MemorySegment data = dnnl.flatDescriptor(arena, count, out);
        MemorySegment first = a == out ? data : dnnl.flatDescriptor(arena, count, a);
        MemorySegment second = b == out ? data : dnnl.flatDescriptor(arena, count, b);
        MemorySegment desc = DnnlRuntime.operationDescriptor(arena);
        DnnlRuntime.check(dnnl_h.dnnl_binary_desc_init(desc, dnnl_h.dnnl_binary_add(), first, second, data), "dnnl_binary_desc_init");
        DnnlPrimitive made = DnnlPrimitive.create(dnnl, relu ? "add+relu" : "add", desc,
                relu ? dnnl.reluAttributes() : dnnl.plainAttributes(), null,
                new int[] {dnnl_h.DNNL_ARG_SRC_0(), dnnl_h.DNNL_ARG_SRC_1(), dnnl_h.DNNL_ARG_DST()},
                new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md()}, new int[] {0, 1, 0});
        entries.add(new Entry(kind, types, null, 0, count, made));
        return made;
    }

    /** Slots: 0 source, 1 destination; a reorder that converts {@code count} elements, rounding to nearest even. */
    DnnlPrimitive convert(DType from, DType to, long count) {
        int types = types(from, to, DType.F32);
        DnnlPrimitive found = find(CONVERT, types, null, 0f, count);
        if (found != null) {
            return found;
        }
        DnnlPrimitive made = DnnlReorder.create(dnnl, "convert " + from + " to " + to,
                dnnl.flatDescriptor(arena, count, from), dnnl.flatDescriptor(arena, count, to), false);
        entries.add(new Entry(CONVERT, types, null, 0, count, made));
        return made;
    }

    /**
     * Slots: 0 source, 1 destination; a reorder of a rank-4 F32 tensor of {@code shape} from one
     * layout into the other (oneDNN's jitted reorder: a Java loop strides through one side, and
     * runs on Java threads while oneDNN's OpenMP threads may still be spinning after their last
     * region).
     */
    DnnlPrimitive relayout(Shape shape, Layout from, Layout to) {
        int kind = RELAYOUT + to.ordinal();
        DnnlPrimitive found = find(kind, 0, null, 0f, shape.elementCount(), shape);
        if (found != null) {
            return found;
        }
        DnnlPrimitive made = DnnlReorder.create(dnnl, "relayout " + shape + " " + from + " to " + to,
                dnnl.descriptor(arena, shape, from), dnnl.descriptor(arena, shape, to), false);
        entries.add(new Entry(kind, 0, null, 0, shape.elementCount(), shape, made));
        return made;
    }

    @Override
    public void close() {
        for (Entry entry : entries) {
            entry.primitive.close();
        }
        entries.clear();
        arena.close();
    }
}
