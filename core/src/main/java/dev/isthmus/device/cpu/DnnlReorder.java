package dev.isthmus.device.cpu;

import dev.isthmus.bindings.dnnl.dnnl_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Builds oneDNN reorders: the same values from one memory format to another (optionally adding). */
final class DnnlReorder {
    private DnnlReorder() {
    }

    /** Slot 0 is the source, slot 1 the destination. */
    static DnnlPrimitive create(DnnlRuntime runtime, String name, MemorySegment from, MemorySegment to, boolean accumulate) {
        try (Arena temporary = Arena.ofConfined()) {
            MemorySegment out = temporary.allocate(ValueLayout.ADDRESS);
            DnnlRuntime.check(dnnl_h.dnnl_reorder_primitive_desc_create(out, from, runtime.engine(), to, runtime.engine(),
                    accumulate ? runtime.accumulatingAttributes() : runtime.plainAttributes()), "dnnl_reorder_primitive_desc_create(" + name + ")");
            return new DnnlPrimitive(runtime, name, out.get(ValueLayout.ADDRESS, 0),
                    new int[] {dnnl_h.DNNL_ARG_FROM(), dnnl_h.DNNL_ARG_TO()},
                    new int[] {dnnl_h.dnnl_query_src_md(), dnnl_h.dnnl_query_dst_md()}, new int[] {0, 0});
        }
    }
}
