package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * The PTX module compiled from native/kernels.cu, loaded once per device with cuModuleLoadDataEx
 * (whose error log says why, when the driver's JIT refuses it),
 * and a launcher whose argument block is allocated once: a launch writes its arguments into fixed
 * slots and passes the same pointer array, so launching allocates nothing.
 */
final class CudaKernels implements AutoCloseable {
    static final String RESOURCE = "/dev/isthmus/device/cuda/kernels.ptx";
    private static final int SLOTS = 16;
    private static final int THREADS = 256;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final MemorySegment values;
    private final MemorySegment pointers;

    CudaKernels() {
        byte[] ptx;
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("cuda: the PTX resource " + RESOURCE + " is missing from the class path");
            }
            ptx = in.readAllBytes();
        } catch (IOException unreadable) {
            throw new IllegalStateException("cuda: cannot read " + RESOURCE + ": " + unreadable.getMessage(), unreadable);
        }
        // The driver compiles the image during the call and keeps nothing of it, nor of the log.
        try (Arena loading = Arena.ofConfined()) {
            MemorySegment image = loading.allocate(ptx.length + 1L);
            MemorySegment.copy(ptx, 0, image, ValueLayout.JAVA_BYTE, 0, ptx.length);
            MemorySegment out = loading.allocate(ValueLayout.ADDRESS);
            JitErrorLog log = new JitErrorLog(loading);
            int status = cuda_h.cuModuleLoadDataEx(out, image, JitErrorLog.OPTION_COUNT, log.options(), log.values());
            if (status != 0) {
                arena.close();
                CudaDriver.check(status, log.describe("cuModuleLoadDataEx(kernels.ptx)"));
            }
            this.module = out.get(ValueLayout.ADDRESS, 0);
        }
        this.values = arena.allocate(8L * SLOTS, 8);
        this.pointers = arena.allocate(ValueLayout.ADDRESS, SLOTS);
        for (int i = 0; i < SLOTS; i++) {
            pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i));
        }
    }

    /** The kernel named {@code name} (looked up once). */
    MemorySegment function(String name) {
        MemorySegment function = functions.get(name);
        if (function == null) {
            try (Arena temporary = Arena.ofConfined()) {
                MemorySegment out = temporary.allocate(ValueLayout.ADDRESS);
                CudaDriver.check(cuda_h.cuModuleGetFunction(out, module, temporary.allocateFrom(name)),
                        "cuModuleGetFunction(" + name + ")");
                function = out.get(ValueLayout.ADDRESS, 0);
            }
            functions.put(name, function);
        }
        return function;
    }

    CudaKernels pointer(int slot, MemorySegment devicePointer) {
        values.set(ValueLayout.JAVA_LONG, 8L * slot, devicePointer == null ? 0 : devicePointer.address());
        return this;
    }

    CudaKernels int64(int slot, long value) {
        values.set(ValueLayout.JAVA_LONG, 8L * slot, value);
        return this;
    }

    CudaKernels int32(int slot, int value) {
        values.set(ValueLayout.JAVA_INT, 8L * slot, value);
        return this;
    }

    CudaKernels float32(int slot, float value) {
        values.set(ValueLayout.JAVA_FLOAT, 8L * slot, value);
        return this;
    }

    CudaKernels float64(int slot, double value) {
        values.set(ValueLayout.JAVA_DOUBLE, 8L * slot, value);
        return this;
    }

    /** Launches a grid-stride kernel over {@code count} elements. */
    void launch(String name, long count, MemorySegment stream) {
        int blocks = (int) Math.max(1, Math.min((count + THREADS - 1) / THREADS, 4096));
        launch(name, blocks, THREADS, stream);
    }

    void launch(String name, int blocks, int threads, MemorySegment stream) {
        if (blocks == 0) {
            // Nothing to do (a bias of zero channels); the driver refuses an empty grid.
            return;
        }
        CudaDriver.check(cuda_h.cuLaunchKernel(function(name), blocks, 1, 1, threads, 1, 1, 0, stream, pointers,
                MemorySegment.NULL), name);
    }

    @Override
    public void close() {
        cuda_h.cuModuleUnload(module);
        arena.close();
    }
}
