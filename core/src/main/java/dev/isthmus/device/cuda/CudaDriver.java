package dev.isthmus.device.cuda;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.device.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The CUDA driver calls made outside a device: initialisation, queries, and status checking. */
public final class CudaDriver {
    private static Integer initStatus;

    private CudaDriver() {
    }

    /** Throws a {@link NativeException} carrying the driver's own error name and string unless status is 0. */
    public static void check(int status, String operation) {
        if (status != 0) {
            throw new NativeException("CUDA", operation, status, errorName(status), errorString(status));
        }
    }

    public static String errorName(int status) {
        return describe(status, true);
    }

    public static String errorString(int status) {
        return describe(status, false);
    }

    private static String describe(int status, boolean name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(ValueLayout.ADDRESS);
            int rc = name ? cuda_h.cuGetErrorName(status, text) : cuda_h.cuGetErrorString(status, text);
            MemorySegment pointer = text.get(ValueLayout.ADDRESS, 0);
            if (rc != 0 || pointer.equals(MemorySegment.NULL)) {
                return "unknown CUDA error";
            }
            return pointer.reinterpret(1024).getString(0);
        } catch (RuntimeException | LinkageError unavailable) {
            return "CUDA error " + status;
        }
    }

    /**
     * Loads the driver library and runs {@code cuInit} once.
     *
     * @throws dev.isthmus.bindings.NativeLibraryException when libcuda cannot be found
     * @throws NativeException when the driver refuses to start (no device, driver/toolkit mismatch)
     */
    public static synchronized void initialize() {
        NativeLibrary.CUDA.load();
        if (initStatus == null) {
            initStatus = cuda_h.cuInit(0);
        }
        check(initStatus, "cuInit");
    }

    /** The driver's CUDA version as major * 1000 + minor * 10. */
    public static int driverVersion() {
        NativeLibrary.CUDA.load();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment version = arena.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDriverGetVersion(version), "cuDriverGetVersion");
            return version.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public static int deviceCount() {
        initialize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDeviceGetCount(count), "cuDeviceGetCount");
            return count.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /** The device handle for ordinal {@code index}, after checking the ordinal exists. */
    public static int device(int index) {
        int count = deviceCount();
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("cuda:" + index + " does not exist: " + count + " CUDA device(s) present");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment device = arena.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDeviceGet(device, index), "cuDeviceGet(" + index + ")");
            return device.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public static String deviceName(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(256);
            check(cuda_h.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
            return name.getString(0);
        }
    }

    public static int attribute(int device, int attribute) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            check(cuda_h.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute");
            return value.get(ValueLayout.JAVA_INT, 0);
        }
    }

    public static long totalMemory(int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
            check(cuda_h.cuDeviceTotalMem_v2(bytes, device), "cuDeviceTotalMem");
            return bytes.get(ValueLayout.JAVA_LONG, 0);
        }
    }
}
