package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * Makes one device's CUDA context current on the calling thread before it issues work. The
 * current context is per thread and anyone may change it (a second device on the same thread,
 * another CUDA library), so it is asked every time (cuCtxGetCurrent reads a thread-local: cheap)
 * and set when it is not ours. The answer is read through a cell allocated once.
 */
final class CudaContextGuard {
    /** The driver's two context calls, behind an interface so that the decision can be tested without a GPU. */
    interface ContextCalls {
        /** cuCtxGetCurrent: writes the calling thread's current context (or NULL) into {@code out}. */
        int getCurrent(MemorySegment out);

        /** cuCtxSetCurrent. */
        int setCurrent(MemorySegment context);
    }

    static final ContextCalls DRIVER = new ContextCalls() {
        @Override
        public int getCurrent(MemorySegment out) {
            return cuda_h.cuCtxGetCurrent(out);
        }

        @Override
        public int setCurrent(MemorySegment context) {
            return cuda_h.cuCtxSetCurrent(context);
        }
    };

    private final MemorySegment context;
    private final ContextCalls calls;
    private final MemorySegment current;

    CudaContextGuard(MemorySegment context, ContextCalls calls, SegmentAllocator allocator) {
        this.context = context;
        this.calls = calls;
        this.current = allocator.allocate(ValueLayout.ADDRESS);
    }

    /** Makes the context current on the calling thread unless it already is. */
    synchronized void enter() {
        CudaDriver.check(calls.getCurrent(current), "cuCtxGetCurrent");
        // Compared as a number: reading it as an address would make a segment object per call.
        if (current.get(ValueLayout.JAVA_LONG, 0) != context.address()) {
            CudaDriver.check(calls.setCurrent(context), "cuCtxSetCurrent");
        }
    }
}
