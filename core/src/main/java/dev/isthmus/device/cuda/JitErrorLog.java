package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;

/**
 * The options that make cuModuleLoadDataEx write the PTX JIT's error log into a buffer of ours,
 * so that a module the driver refuses (a PTX ISA too new for the driver, an unsupported
 * instruction) is reported with the JIT's own explanation instead of a bare status.
 */
final class JitErrorLog {
    static final int LOG_BYTES = 16 << 10;
    static final int OPTION_COUNT = 2;

    private final MemorySegment buffer;
    private final MemorySegment options;
    private final MemorySegment values;

    JitErrorLog(SegmentAllocator allocator) {
        this.buffer = allocator.allocate(LOG_BYTES);
        // CUjit_option[] and void*[]: the buffer, and its size passed as a pointer-sized integer.
        this.options = allocator.allocate(ValueLayout.JAVA_INT, OPTION_COUNT);
        this.values = allocator.allocate(ValueLayout.ADDRESS, OPTION_COUNT);
        options.setAtIndex(ValueLayout.JAVA_INT, 0, cuda_h.CU_JIT_ERROR_LOG_BUFFER());
        values.setAtIndex(ValueLayout.ADDRESS, 0, buffer);
        options.setAtIndex(ValueLayout.JAVA_INT, 1, cuda_h.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
        values.setAtIndex(ValueLayout.ADDRESS, 1, MemorySegment.ofAddress(LOG_BYTES));
    }

    /** cuModuleLoadDataEx's {@code options}. */
    MemorySegment options() {
        return options;
    }

    /** cuModuleLoadDataEx's {@code optionValues}. */
    MemorySegment values() {
        return values;
    }

    /** What the JIT wrote (NUL-terminated), trimmed; empty when it wrote nothing. */
    String text() {
        buffer.set(ValueLayout.JAVA_BYTE, LOG_BYTES - 1, (byte) 0);
        return buffer.getString(0).strip();
    }

    /** The operation to report a failed load as: {@code operation}, and the log when there is one. */
    String describe(String operation) {
        String log = text();
        return log.isEmpty() ? operation + " (the JIT wrote no log)" : operation + "; the JIT's log:\n" + log;
    }
}
