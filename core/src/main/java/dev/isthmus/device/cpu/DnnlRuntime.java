package dev.isthmus.device.cpu;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.NativeLibraryException;
import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.bindings.dnnl.dnnl_memory_desc_t;
import dev.isthmus.bindings.dnnl.dnnl_version_t;
import dev.isthmus.bindings.omp.omp_h;
import dev.isthmus.device.NativeException;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * oneDNN for the CPU device: its engine and stream, memory descriptors for Isthmus tensors, a
 * shared scratchpad, and status checking. oneDNN runs its kernels on OpenMP threads; the thread
 * count is set per calling thread, because OpenMP keeps it per thread.
 */
final class DnnlRuntime implements AutoCloseable {
    /**
     * Room for any oneDNN 2.x operation descriptor (the largest, convolution's, is 5,976 bytes).
     * They are filled by oneDNN's *_desc_init functions and only passed back to it, so Isthmus
     * treats them as opaque buffers.
     */
    static final long OPERATION_DESCRIPTOR_BYTES = 8192;

    /** {@code -Disthmus.cpu.backend=openblas} (or ISTHMUS_CPU_BACKEND) turns oneDNN off. */
    static final String BACKEND_PROPERTY = "isthmus.cpu.backend";

    private final Arena arena = Arena.ofShared();
    private final MemorySegment engine;
    private final MemorySegment stream;
    private final int threads;
    private final String version;
    private final MemorySegment userScratchpad;
    private final MemorySegment accumulate;
    private final MemorySegment thenRelu;
    private MemorySegment scratchpad = MemorySegment.NULL;
    private Arena scratchpadArena;
    private volatile Thread configuredThread;

    private DnnlRuntime(int threads) {
        this.threads = threads;
        MemorySegment engineOut = arena.allocate(ValueLayout.ADDRESS);
        check(dnnl_h.dnnl_engine_create(engineOut, dnnl_h.dnnl_cpu(), 0), "dnnl_engine_create");
        this.engine = engineOut.get(ValueLayout.ADDRESS, 0);
        MemorySegment streamOut = arena.allocate(ValueLayout.ADDRESS);
        check(dnnl_h.dnnl_stream_create(streamOut, engine, dnnl_h.dnnl_stream_default_flags()), "dnnl_stream_create");
        this.stream = streamOut.get(ValueLayout.ADDRESS, 0);
        MemorySegment v = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.layout().byteSize());
        this.version = dnnl_version_t.major(v) + "." + dnnl_version_t.minor(v) + "." + dnnl_version_t.patch(v);
        this.userScratchpad = attributes(false);
        this.accumulate = attributes(true);
        this.thenRelu = makeReluAttributes();
        configureThisThread();
    }

    /**
     * The reason oneDNN is not used, or null when it can be.
     *
     * @param honourSwitch whether -Disthmus.cpu.backend=openblas (or ISTHMUS_CPU_BACKEND) counts
     */
    static String unavailableReason(boolean honourSwitch) {
        String choice = System.getProperty(BACKEND_PROPERTY, System.getenv("ISTHMUS_CPU_BACKEND"));
        if (honourSwitch && choice != null && choice.equalsIgnoreCase("openblas")) {
            return "turned off by " + BACKEND_PROPERTY + "=openblas";
        }
        try {
            NativeLibrary.DNNL.load();
            NativeLibrary.OPENMP.load();
            return null;
        } catch (NativeLibraryException missing) {
            return missing.library().displayName() + " not found (" + missing.attempts().size() + " places tried)";
        }
    }

    /** oneDNN for {@code threads} threads (check {@link #unavailableReason} first). */
    static DnnlRuntime create(int threads) {
        return new DnnlRuntime(threads);
    }

    /** Attributes for every primitive: the caller's scratchpad; with {@code sum}, dst += result (for gradients). */
    private MemorySegment attributes(boolean sum) {
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check(dnnl_h.dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create");
        MemorySegment attr = out.get(ValueLayout.ADDRESS, 0);
        check(dnnl_h.dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_h.dnnl_scratchpad_mode_user()),
                "dnnl_primitive_attr_set_scratchpad_mode");
        if (sum) {
            MemorySegment postOpsOut = arena.allocate(ValueLayout.ADDRESS);
            check(dnnl_h.dnnl_post_ops_create(postOpsOut), "dnnl_post_ops_create");
            MemorySegment postOps = postOpsOut.get(ValueLayout.ADDRESS, 0);
            check(dnnl_h.dnnl_post_ops_append_sum(postOps, 1f), "dnnl_post_ops_append_sum");
            check(dnnl_h.dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops");
            dnnl_h.dnnl_post_ops_destroy(postOps);
        }
        return attr;
    }

    /** Attributes that apply max(·, 0) to a primitive's result as it is stored (user scratchpad). */
    private MemorySegment makeReluAttributes() {
        MemorySegment attr = attributes(false);
        MemorySegment postOpsOut = arena.allocate(ValueLayout.ADDRESS);
        check(dnnl_h.dnnl_post_ops_create(postOpsOut), "dnnl_post_ops_create");
        MemorySegment postOps = postOpsOut.get(ValueLayout.ADDRESS, 0);
        check(dnnl_h.dnnl_post_ops_append_eltwise(postOps, 1f, dnnl_h.dnnl_eltwise_relu(), 0f, 0f), "dnnl_post_ops_append_eltwise");
        check(dnnl_h.dnnl_primitive_attr_set_post_ops(attr, postOps), "dnnl_primitive_attr_set_post_ops");
        dnnl_h.dnnl_post_ops_destroy(postOps);
        return attr;
    }

    /** Attributes of a primitive whose result goes through a ReLU as it is stored. */
    MemorySegment reluAttributes() {
        return thenRelu;
    }

    /** Attributes of a plain primitive (user scratchpad). */
    MemorySegment plainAttributes() {
        return userScratchpad;
    }

    /** Attributes that make a primitive add its result to its destination. */
    MemorySegment accumulatingAttributes() {
        return accumulate;
    }

    String version() {
        return version;
    }

    MemorySegment engine() {
        return engine;
    }

    MemorySegment stream() {
        return stream;
    }

    /** OpenMP's thread count is per thread: set it whenever a new thread starts issuing work. */
    void configureThisThread() {
        Thread current = Thread.currentThread();
        if (configuredThread != current) {
            omp_h.omp_set_num_threads(threads);
            configuredThread = current;
        }
    }

    static void check(int status, String operation) {
        if (status != dnnl_h.dnnl_success()) {
            throw new NativeException("oneDNN", operation, status, statusName(status), describe(status));
        }
    }

    private static String statusName(int status) {
        return switch (status) {
            case 1 -> "dnnl_out_of_memory";
            case 2 -> "dnnl_invalid_arguments";
            case 3 -> "dnnl_unimplemented";
            case 4 -> "dnnl_iterator_ends";
            case 5 -> "dnnl_runtime_error";
            case 6 -> "dnnl_not_required";
            default -> "status " + status;
        };
    }

    private static String describe(int status) {
        return switch (status) {
            case 1 -> "oneDNN could not allocate memory";
            case 2 -> "oneDNN rejected the arguments (a shape or format it does not support)";
            case 3 -> "oneDNN has no implementation for this combination";
            default -> "see oneDNN's documentation for dnnl_status_t";
        };
    }

    /**
     * oneDNN's dnnl_data_type_t of {@code dtype}. The committed bindings carry dnnl_f32 and
     * dnnl_s32 only (bindings/jextract/dnnl.args); dnnl_f16 = 1 and dnnl_bf16 = 2 are the values of
     * the same enum in oneDNN 2.x's dnnl_types.h, next to dnnl_f32 = 3, which this checks.
     */
    static int dataType(DType dtype) {
        if (dnnl_h.dnnl_f32() != 3) {
            throw new IllegalStateException("oneDNN bindings: dnnl_f32 is " + dnnl_h.dnnl_f32()
                    + ", not oneDNN 2.x's 3, so the BF16/F16 codes derived from it would be wrong");
        }
        return switch (dtype) {
            case F32 -> dnnl_h.dnnl_f32();
            case I32 -> dnnl_h.dnnl_s32();
            case BF16 -> 2;
            case F16 -> 1;
        };
    }

    /** A memory descriptor for a tensor of {@code shape} in {@code layout}, allocated in {@code where}. */
    MemorySegment descriptor(Arena where, Shape shape, Layout layout) {
        return descriptor(where, shape, layout, DType.F32);
    }

    /** As {@link #descriptor(Arena, Shape, Layout)} for elements of {@code dtype}. */
    MemorySegment descriptor(Arena where, Shape shape, Layout layout, DType dtype) {
        int rank = shape.rank();
        int tag = switch (rank) {
            case 1 -> dnnl_h.dnnl_a();
            case 2 -> dnnl_h.dnnl_ab();
            case 4 -> layout == Layout.CHANNELS_LAST ? dnnl_h.dnnl_acdb() : dnnl_h.dnnl_abcd();
            default -> throw new IllegalArgumentException("oneDNN descriptors for rank " + rank + " are not used");
        };
        return descriptor(where, shape.dims(), tag, dtype);
    }

    /** A descriptor with an explicit format tag, or dnnl_format_tag_any to let the primitive choose. */
    MemorySegment descriptor(Arena where, int[] dims, int tag) {
        return descriptor(where, dims, tag, DType.F32);
    }

    /** As {@link #descriptor(Arena, int[], int)} for elements of {@code dtype}. */
    MemorySegment descriptor(Arena where, int[] dims, int tag, DType dtype) {
        MemorySegment md = where.allocate(dnnl_memory_desc_t.layout());
        check(dnnl_h.dnnl_memory_desc_init_by_tag(md, dims.length, dims(where, dims), dataType(dtype), tag),
                "dnnl_memory_desc_init_by_tag");
        return md;
    }

    /** A flat 1-D descriptor of {@code count} floats, for element-wise work on any layout. */
    MemorySegment flatDescriptor(Arena where, long count) {
        return flatDescriptor(where, count, DType.F32);
    }

    /** A flat 1-D descriptor of {@code count} elements of {@code dtype}. */
    MemorySegment flatDescriptor(Arena where, long count, DType dtype) {
        return descriptor(where, new int[] {Math.toIntExact(count)}, dnnl_h.dnnl_a(), dtype);
    }

    /** A zeroed buffer for an operation descriptor. */
    static MemorySegment operationDescriptor(Arena where) {
        return where.allocate(OPERATION_DESCRIPTOR_BYTES, 64);
    }

    static MemorySegment dims(Arena where, int... values) {
        MemorySegment dims = where.allocate(ValueLayout.JAVA_LONG, 12);
        for (int i = 0; i < values.length; i++) {
            dims.setAtIndex(ValueLayout.JAVA_LONG, i, values[i]);
        }
        return dims;
    }

    /** The shared scratchpad, grown (only while plans are being made) to at least {@code bytes}. */
    synchronized void reserveScratchpad(long bytes) {
        if (bytes <= scratchpad.byteSize()) {
            return;
        }
        if (scratchpadArena != null) {
            scratchpadArena.close();
        }
        scratchpadArena = Arena.ofShared();
        scratchpad = scratchpadArena.allocate(bytes, 64);
    }

    MemorySegment scratchpad() {
        return scratchpad;
    }

    @Override
    public void close() {
        dnnl_h.dnnl_primitive_attr_destroy(userScratchpad);
        dnnl_h.dnnl_primitive_attr_destroy(accumulate);
        dnnl_h.dnnl_primitive_attr_destroy(thenRelu);
        dnnl_h.dnnl_stream_destroy(stream);
        dnnl_h.dnnl_engine_destroy(engine);
        if (scratchpadArena != null) {
            scratchpadArena.close();
        }
        arena.close();
    }
}
