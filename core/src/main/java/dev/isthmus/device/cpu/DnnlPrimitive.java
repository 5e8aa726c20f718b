package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_exec_arg_t;
import dev.isthmus.bindings.dnnl.dnnl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One oneDNN primitive ready to run: its primitive descriptor, the primitive, one memory object
 * per argument (created without data; each run points them at the tensors' memory) and the
 * argument array, all made once so that running it allocates nothing. The primitive uses the
 * runtime's shared scratchpad.
 */
final class DnnlPrimitive implements AutoCloseable {
    private final DnnlRuntime runtime;
    private final String name;
    private final MemorySegment primitiveDesc;
    private final MemorySegment primitive;
    private final MemorySegment[] memories;
    private final MemorySegment arguments;
    private final MemorySegment scratchpadMemory;
    private final int argumentCount;
    private final Arena arena = Arena.ofShared();

    /**
     * @param opDesc   the operation descriptor (null for reorders, whose primitive descriptor is given)
     * @param kinds    DNNL_ARG_* of each argument, in the order {@link #bind} numbers them
     * @param queries  dnnl_query_*_md for each argument's descriptor (the primitive's choice)
     * @param indexes  the query index of each (1 for a bias among the weights, else 0)
     */
    static DnnlPrimitive create(DnnlRuntime runtime, String name, MemorySegment opDesc, MemorySegment attr,
                                MemorySegment hint, int[] kinds, int[] queries, int[] indexes) {
        return create(runtime, name, opDesc, attr, hint, kinds, queries, indexes, null);
    }

    /** As above; a non-null {@code explicit[i]} is used as argument i's descriptor instead of querying. */
    static DnnlPrimitive create(DnnlRuntime runtime, String name, MemorySegment opDesc, MemorySegment attr,
                                MemorySegment hint, int[] kinds, int[] queries, int[] indexes, MemorySegment[] explicit) {
        try (Arena temporary = Arena.ofConfined()) {
            MemorySegment out = temporary.allocate(ValueLayout.ADDRESS);
            DnnlRuntime.check(dnnl_h.dnnl_primitive_desc_create(out, opDesc, attr, runtime.engine(),
                    hint == null ? MemorySegment.NULL : hint), "dnnl_primitive_desc_create(" + name + ")");
            return new DnnlPrimitive(runtime, name, out.get(ValueLayout.ADDRESS, 0), kinds, queries, indexes, explicit);
        }
    }

    DnnlPrimitive(DnnlRuntime runtime, String name, MemorySegment primitiveDesc, int[] kinds, int[] queries, int[] indexes) {
        this(runtime, name, primitiveDesc, kinds, queries, indexes, null);
    }

    DnnlPrimitive(DnnlRuntime runtime, String name, MemorySegment primitiveDesc, int[] kinds, int[] queries, int[] indexes,
                  MemorySegment[] explicit) {
        this.runtime = runtime;
        this.name = name;
        this.primitiveDesc = primitiveDesc;
        try (Arena temporary = Arena.ofConfined()) {
            MemorySegment out = temporary.allocate(ValueLayout.ADDRESS);
            DnnlRuntime.check(dnnl_h.dnnl_primitive_create(out, primitiveDesc), "dnnl_primitive_create(" + name + ")");
            this.primitive = out.get(ValueLayout.ADDRESS, 0);
            MemorySegment scratchpadDesc = dnnl_h.dnnl_primitive_desc_query_md(primitiveDesc, dnnl_h.dnnl_query_scratchpad_md(), 0);
            long scratchpadBytes = scratchpadDesc.equals(MemorySegment.NULL) ? 0 : dnnl_h.dnnl_memory_desc_get_size(scratchpadDesc);
            this.argumentCount = kinds.length + (scratchpadBytes > 0 ? 1 : 0);
            this.memories = new MemorySegment[kinds.length];
            this.arguments = arena.allocate(dnnl_exec_arg_t.layout(), Math.max(1, argumentCount));
            for (int i = 0; i < kinds.length; i++) {
                MemorySegment desc = explicit != null && explicit[i] != null ? explicit[i]
                        : dnnl_h.dnnl_primitive_desc_query_md(primitiveDesc, queries[i], indexes[i]);
                memories[i] = memory(temporary, desc, name + " argument " + kinds[i]);
                setArgument(i, kinds[i], memories[i]);
            }
            if (scratchpadBytes > 0) {
                runtime.reserveScratchpad(scratchpadBytes);
                scratchpadMemory = memory(temporary, scratchpadDesc, name + " scratchpad");
                setArgument(kinds.length, dnnl_h.DNNL_ARG_SCRATCHPAD(), scratchpadMemory);
            } else {
                scratchpadMemory = null;
            }
        }
    }

    private MemorySegment memory(Arena temporary, MemorySegment desc, String what) {
        if (desc.equals(MemorySegment.NULL)) {
            throw new IllegalStateException("oneDNN " + name + ": no descriptor for " + what);
        }
        MemorySegment out = temporary.allocate(ValueLayout.ADDRESS);
        DnnlRuntime.check(dnnl_h.dnnl_memory_create(out, desc, runtime.engine(), MemorySegment.NULL), "dnnl_memory_create(" + what + ")");
        return out.get(ValueLayout.ADDRESS, 0);
    }

    private void setArgument(int index, int kind, MemorySegment memory) {
        MemorySegment argument = arguments.asSlice(index * dnnl_exec_arg_t.layout().byteSize(), dnnl_exec_arg_t.layout());
        dnnl_exec_arg_t.arg(argument, kind);
        dnnl_exec_arg_t.memory(argument, memory);
    }

    /** The primitive's own descriptor of argument {@code query}/{@code index} (valid while this lives). */
    MemorySegment descriptor(int query, int index) {
        return dnnl_h.dnnl_primitive_desc_query_md(primitiveDesc, query, index);
    }

    MemorySegment primitiveDesc() {
        return primitiveDesc;
    }

    /** The bytes argument {@code slot} needs in the primitive's chosen format. */
    long bytes(int query, int index) {
        return dnnl_h.dnnl_memory_desc_get_size(descriptor(query, index));
    }

    /** The implementation oneDNN chose, e.g. "jit:avx512_core" (for reports). */
    String implementation() {
        try (Arena temporary = Arena.ofConfined()) {
            MemorySegment out = temporary.allocate(ValueLayout.ADDRESS);
            DnnlRuntime.check(dnnl_h.dnnl_primitive_desc_query(primitiveDesc, dnnl_h.dnnl_query_impl_info_str(), 0, out),
                    "dnnl_primitive_desc_query");
            return out.get(ValueLayout.ADDRESS, 0).reinterpret(256).getString(0);
        }
    }

    /** Points argument {@code slot} (the order of the kinds given at creation) at {@code data}. */
    void bind(int slot, MemorySegment data) {
        DnnlRuntime.check(dnnl_h.dnnl_memory_set_data_handle(memories[slot], data), "dnnl_memory_set_data_handle");
    }

    void execute() {
        runtime.configureThisThread();
        if (scratchpadMemory != null) {
            DnnlRuntime.check(dnnl_h.dnnl_memory_set_data_handle(scratchpadMemory, runtime.scratchpad()),
                    "dnnl_memory_set_data_handle");
        }
        int status = dnnl_h.dnnl_primitive_execute(primitive, runtime.stream(), argumentCount, arguments);
        if (status != dnnl_h.dnnl_success()) {
            // The message is built only on failure: this runs dozens of times per training step.
            DnnlRuntime.check(status, "dnnl_primitive_execute(" + name + ")");
        }
    }

    @Override
    public void close() {
        for (MemorySegment memory : memories) {
            dnnl_h.dnnl_memory_destroy(memory);
        }
        if (scratchpadMemory != null) {
            dnnl_h.dnnl_memory_destroy(scratchpadMemory);
        }
        dnnl_h.dnnl_primitive_destroy(primitive);
        dnnl_h.dnnl_primitive_desc_destroy(primitiveDesc);
        arena.close();
    }
}
