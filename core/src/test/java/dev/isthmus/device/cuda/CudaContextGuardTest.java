package dev.isthmus.device.cuda;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two devices on one thread, and another CUDA user on it: each device's work runs in its own
 * context. The driver is a fake holding one thread's current context.
 */
class CudaContextGuardTest {
    private static final class OneThread implements CudaContextGuard.ContextCalls {
        MemorySegment current = MemorySegment.NULL;
        int sets;

        @Override
        public int getCurrent(MemorySegment out) {
            out.set(ValueLayout.ADDRESS, 0, current);
            return 0;
        }

        @Override
        public int setCurrent(MemorySegment context) {
            sets++;
            current = context;
            return 0;
        }
    }

    @Test
    void eachDeviceMakesItsContextCurrentWheneverItIsNot() {
        OneThread thread = new OneThread();
        MemorySegment gpu0 = MemorySegment.ofAddress(0x1000);
        MemorySegment gpu1 = MemorySegment.ofAddress(0x2000);
        try (Arena arena = Arena.ofConfined()) {
            CudaContextGuard first = new CudaContextGuard(gpu0, thread, arena);
            CudaContextGuard second = new CudaContextGuard(gpu1, thread, arena);

            first.enter();
            assertEquals(gpu0, thread.current);
            first.enter();
            assertEquals(1, thread.sets, "already current: nothing to set");

            second.enter();
            assertEquals(gpu1, thread.current);
            // The same thread as before: a guard keyed on the thread would skip this and run cuda:0's work in cuda:1's context.
            first.enter();
            assertEquals(gpu0, thread.current);

            thread.current = MemorySegment.ofAddress(0x3000); // another library's context
            first.enter();
            assertEquals(gpu0, thread.current);
            assertEquals(4, thread.sets, "one cuCtxSetCurrent per switch, none when already current");
        }
    }
}
