package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The option block cuModuleLoadDataEx gets, and what a failed load reports. */
class JitErrorLogTest {
    @Test
    void theOptionsPointTheJitAtOurBufferAndItsSize() {
        try (Arena arena = Arena.ofConfined()) {
            JitErrorLog log = new JitErrorLog(arena);
            assertEquals(cuda_h.CU_JIT_ERROR_LOG_BUFFER(), log.options().getAtIndex(ValueLayout.JAVA_INT, 0));
            assertEquals(cuda_h.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES(), log.options().getAtIndex(ValueLayout.JAVA_INT, 1));
            assertEquals(JitErrorLog.LOG_BYTES, log.values().getAtIndex(ValueLayout.ADDRESS, 1).address(),
                    "the size is passed as the pointer-sized value itself");

            // What the driver does on failure: writes a NUL-terminated log into the buffer named by option 0.
            MemorySegment buffer = log.values().getAtIndex(ValueLayout.ADDRESS, 0).reinterpret(JitErrorLog.LOG_BYTES);
            assertEquals("cuModuleLoadDataEx(kernels.ptx) (the JIT wrote no log)", log.describe("cuModuleLoadDataEx(kernels.ptx)"));
            buffer.setString(0, "ptxas application ptx input, line 12; fatal   : Unsupported .version 9.0; current version is '8.4'\n");
            assertEquals("cuModuleLoadDataEx(kernels.ptx); the JIT's log:\nptxas application ptx input, line 12; fatal   : "
                    + "Unsupported .version 9.0; current version is '8.4'", log.describe("cuModuleLoadDataEx(kernels.ptx)"));
        }
    }

    @Test
    void aLogThatFillsTheBufferIsCutNotOverrun() {
        try (Arena arena = Arena.ofConfined()) {
            JitErrorLog log = new JitErrorLog(arena);
            MemorySegment buffer = log.values().getAtIndex(ValueLayout.ADDRESS, 0).reinterpret(JitErrorLog.LOG_BYTES);
            buffer.fill((byte) 'x');
            assertEquals(JitErrorLog.LOG_BYTES - 1, log.text().length());
        }
    }
}
