package dev.isthmus.distributed;

import dev.isthmus.bindings.mpi.mpi_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/** Facts about the MPI library that need no MPI_Init (the MPI standard allows these before it). */
public final class MpiLibrary {
    private MpiLibrary() {
    }

    /**
     * MPI_Get_library_version's text, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...", first line only.
     *
     * @throws dev.isthmus.bindings.NativeLibraryException when libmpi cannot be loaded
     * @return the version
     */
    public static String version() {
        try (Arena arena = Arena.ofConfined()) {
            int capacity = mpi_h.MPI_MAX_LIBRARY_VERSION_STRING();
            MemorySegment text = arena.allocate(capacity);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            check("MPI_Get_library_version", mpi_h.MPI_Get_library_version(text, length));
            int used = Math.clamp(length.get(ValueLayout.JAVA_INT, 0), 0, capacity);
            String whole = new String(text.asSlice(0, used).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            int newline = whole.indexOf('\n');
            return (newline < 0 ? whole : whole.substring(0, newline)).strip();
        }
    }

    /**
     * Whether MPI_Init has run and MPI_Finalize has not (both queries are allowed at any time).
     *
     * @return whether running
     */
    public static boolean running() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment flag = arena.allocate(ValueLayout.JAVA_INT);
            if (mpi_h.MPI_Initialized(flag) != mpi_h.MPI_SUCCESS() || flag.get(ValueLayout.JAVA_INT, 0) == 0) {
                return false;
            }
            return mpi_h.MPI_Finalized(flag) == mpi_h.MPI_SUCCESS() && flag.get(ValueLayout.JAVA_INT, 0) == 0;
        }
    }

    /** Throws naming the call and the MPI error class when an MPI function did not return MPI_SUCCESS. */
    static void check(String operation, int status) {
        if (status != mpi_h.MPI_SUCCESS()) {
            throw new MpiException(operation + " failed: " + describe(status) + " (MPI error " + status + ")");
        }
    }

    /**
     * MPI_Error_string's text for a status, or a plain note when MPI is not running: Open MPI 4
     * aborts the whole process when MPI_Error_string is called before MPI_Init or after MPI_Finalize.
     */
    static String describe(int status) {
        if (!running()) {
            return "no description (MPI is not running, MPI_Error_string is not allowed)";
        }
        try (Arena arena = Arena.ofConfined()) {
            int capacity = mpi_h.MPI_MAX_ERROR_STRING();
            MemorySegment text = arena.allocate(capacity);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
            if (mpi_h.MPI_Error_string(status, text, length) != mpi_h.MPI_SUCCESS()) {
                return "unknown";
            }
            int used = Math.clamp(length.get(ValueLayout.JAVA_INT, 0), 0, capacity);
            return new String(text.asSlice(0, used).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }
}
