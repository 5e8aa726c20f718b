package dev.isthmus.bindings;

import dev.isthmus.bindings.cuda.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Which CUDA toolkit libraries the installed driver can run. A library built for CUDA N, whose
 * soname ends in {@code .N} as {@code libcublas.so.13} does, needs a driver that reports CUDA N
 * or newer ({@code cuDriverGetVersion() >= N * 1000}; CUDA 13 needs driver r580 or newer). Within
 * one major version CUDA's minor-version compatibility holds, so only the major is compared.
 * Choosing a library the driver cannot run would load fine and fail at the first handle.
 */
final class DriverCompatibility {
    /** The driver version when no driver could be asked (no libcuda, or it refused). */
    static final int UNKNOWN = 0;

    private DriverCompatibility() {
    }

    /**
     * Null when a driver of {@code driverVersion} (major * 1000 + minor * 10) can run the library
     * {@code soname}, else why not. An unversioned soname, or an unknown driver, is never refused:
     * without a driver nothing runs anyway, and the device reports that instead.
     */
    static String refusal(String soname, int driverVersion) {
        int major = sonameMajor(soname);
        if (major < 0 || driverVersion == UNKNOWN || driverVersion >= major * 1000) {
            return null;
        }
        return "built for CUDA " + major + ", which needs a driver of CUDA " + major + " or newer"
                + (major == 13 ? " (r580+)" : "") + "; the driver reports CUDA " + describe(driverVersion);
    }

    /** The N of a soname ending in {@code .so.N}, or -1. */
    static int sonameMajor(String soname) {
        int marker = soname.lastIndexOf(".so.");
        if (marker < 0) {
            return -1;
        }
        String suffix = soname.substring(marker + 4);
        int end = suffix.indexOf('.');
        String digits = end < 0 ? suffix : suffix.substring(0, end);
        if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Integer.parseInt(digits);
    }

    static String describe(int driverVersion) {
        return (driverVersion / 1000) + "." + (driverVersion % 1000) / 10;
    }

    /** cuDriverGetVersion of the installed driver, or {@link #UNKNOWN} when there is none to ask. */
    static int installedDriverVersion() {
        if (!NativeLibrary.CUDA.isAvailable()) {
            return UNKNOWN;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment version = arena.allocate(ValueLayout.JAVA_INT);
            return cuda_h.cuDriverGetVersion(version) == 0 ? version.get(ValueLayout.JAVA_INT, 0) : UNKNOWN;
        } catch (RuntimeException | LinkageError unusable) {
            return UNKNOWN;
        }
    }
}
