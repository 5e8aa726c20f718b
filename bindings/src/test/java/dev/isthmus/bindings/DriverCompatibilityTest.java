package dev.isthmus.bindings;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cuBLAS of a CUDA the driver cannot run is skipped: libcublas.so.13 needs cuDriverGetVersion() >= 13000. */
class DriverCompatibilityTest {
    @Test
    void aLibraryForANewerCudaThanTheDriverIsRefusedWithTheVersions() {
        String refusal = DriverCompatibility.refusal("libcublas.so.13", 12040);
        assertTrue(refusal.contains("CUDA 13"), refusal);
        assertTrue(refusal.contains("r580"), refusal);
        assertTrue(refusal.contains("CUDA 12.4"), refusal);
        assertNull(DriverCompatibility.refusal("libcublas.so.13", 13000));
        assertNull(DriverCompatibility.refusal("libcublas.so.13", 13010));
        assertNull(DriverCompatibility.refusal("libcublas.so.12", 12000));
        assertNull(DriverCompatibility.refusal("libcublas.so.12", 13000), "a newer driver runs older toolkits");
        assertTrue(DriverCompatibility.refusal("libcublas.so.12", 11080).contains("CUDA 11.8"));
    }

    @Test
    void anUnversionedSonameOrAnUnknownDriverIsNeverRefused() {
        assertNull(DriverCompatibility.refusal("libcublas.so", 11000));
        assertNull(DriverCompatibility.refusal("libcublas.so.13", DriverCompatibility.UNKNOWN));
    }

    @Test
    void theSonameMajorIsTheNumberAfterSo() {
        assertEquals(13, DriverCompatibility.sonameMajor("libcublas.so.13"));
        assertEquals(9, DriverCompatibility.sonameMajor("libcudnn.so.9.1.0"));
        assertEquals(-1, DriverCompatibility.sonameMajor("libcublas.so"));
        assertEquals(-1, DriverCompatibility.sonameMajor("libcublas.so.x"));
    }

    @Test
    void theLocatorSkipsCublas13OnACuda12DriverAndStillTriesCublas12() {
        List<String> attempts = new ArrayList<>();
        LoadedLibrary cublas = LibraryLocator.locate(NativeLibrary.CUBLAS, null, null, 12040, attempts);
        if (cublas != null) {
            // A machine with cuBLAS: whichever was found is one a CUDA 12.4 driver runs.
            assertFalse(cublas.location().endsWith("libcublas.so.13"), cublas.location());
        }
        assertTrue(attempts.get(0).startsWith("skipped libcublas.so.13: built for CUDA 13"), attempts::toString);
        assertTrue(attempts.stream().noneMatch(a -> a.startsWith("dynamic loader: libcublas.so.13")), attempts::toString);
        if (cublas == null) {
            assertTrue(attempts.stream().anyMatch(a -> a.startsWith("dynamic loader: libcublas.so.12")), attempts::toString);
        }
    }

    @Test
    void onlyCublasSonamesNameACudaVersion() {
        List<String> attempts = new ArrayList<>();
        LibraryLocator.locate(NativeLibrary.CUDNN, null, null, 8000, attempts);
        assertTrue(attempts.stream().noneMatch(a -> a.startsWith("skipped")), "libcudnn.so.9 is cuDNN 9, not CUDA 9: " + attempts);
    }
}
