package dev.isthmus.distributed;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.device.LibraryStatus;
import dev.isthmus.device.NativeStatus;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The bindings against the installed Open MPI, without MPI_Init (no launcher needed). */
class MpiLibraryTest {
    @Test
    void reportsOpenMpisVersionWithoutStartingMpi() {
        assumeTrue(NativeLibrary.MPI.isAvailable(), "Open MPI (libmpi.so.40) is not installed: apt-get install libopenmpi-dev");
        String version = MpiLibrary.version();
        assertTrue(version.startsWith("Open MPI v"), version);
        LibraryStatus status = NativeStatus.mpi();
        assertTrue(status.available(), String.valueOf(status.reason()));
        assertEquals(version, status.version());
    }

    @Test
    void predefinedHandlesAreDistinctGlobals() {
        assumeTrue(NativeLibrary.MPI.isAvailable(), "Open MPI (libmpi.so.40) is not installed: apt-get install libopenmpi-dev");
        Set<Long> addresses = new HashSet<>();
        for (MpiHandles handle : MpiHandles.values()) {
            MemorySegment address = handle.address();
            assertFalse(address.equals(MemorySegment.NULL), handle.name());
            addresses.add(address.address());
        }
        assertEquals(MpiHandles.values().length, addresses.size());
    }

    @Test
    void errorsNameTheCallAndMpisDescription() {
        assumeTrue(NativeLibrary.MPI.isAvailable(), "Open MPI (libmpi.so.40) is not installed: apt-get install libopenmpi-dev");
        MpiException error = org.junit.jupiter.api.Assertions.assertThrows(MpiException.class,
                () -> MpiLibrary.check("MPI_Allreduce", 1));
        assertTrue(error.getMessage().startsWith("MPI_Allreduce failed: "), error.getMessage());
        assertTrue(error.getMessage().contains("MPI error 1"), error.getMessage());
        // Not initialized here: the description must not call MPI_Error_string (Open MPI would abort).
        assertFalse(MpiLibrary.running());
        assertTrue(error.getMessage().contains("MPI is not running"), error.getMessage());
    }
}
