package dev.isthmus.bindings;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LibraryLocatorTest {

    @Test
    void openBlasIsFoundOnEveryMachine() {
        LoadedLibrary openBlas = NativeLibrary.OPENBLAS.load();
        assertTrue(openBlas.lookup().find("cblas_sgemm").isPresent(), "cblas_sgemm in " + openBlas.location());
    }

    @Test
    void anExplicitOverrideIsUsedAndNothingElseIsTried() {
        Path real = Path.of(NativeLibrary.OPENBLAS.load().location());
        // The dynamic loader may have resolved a bare soname; the bundled copy is always a file.
        Path file = Files.isRegularFile(real) ? real : Path.of(bundledOpenBlas());
        List<String> attempts = new ArrayList<>();
        LoadedLibrary loaded = LibraryLocator.locate(NativeLibrary.OPENBLAS, file.toString(), null, attempts);
        assertNotNull(loaded, () -> "override not honoured: " + attempts);
        assertEquals(file.toString(), loaded.location());
        assertTrue(loaded.source().startsWith("override (-Disthmus.library.openblas)"), loaded.source());
        assertTrue(attempts.isEmpty(), attempts::toString);
    }

    @Test
    void theEnvironmentVariableIsTheSecondOverride() {
        List<String> attempts = new ArrayList<>();
        LoadedLibrary loaded = LibraryLocator.locate(NativeLibrary.OPENBLAS, null, bundledOpenBlas(), attempts);
        assertNotNull(loaded, attempts::toString);
        assertTrue(loaded.source().contains("ISTHMUS_LIBRARY_OPENBLAS"), loaded.source());
    }

    @Test
    void aMissingOverrideFailsWithoutFallingBack() {
        List<String> attempts = new ArrayList<>();
        LoadedLibrary loaded = LibraryLocator.locate(NativeLibrary.OPENBLAS, "/nonexistent/libopenblas.so.0", null, attempts);
        assertNull(loaded, "a wrong explicit path must not silently fall back");
        assertEquals(1, attempts.size(), attempts::toString);
        assertTrue(attempts.get(0).contains("/nonexistent/libopenblas.so.0"), attempts::toString);
        assertTrue(attempts.get(0).contains("no such file"), attempts::toString);
    }

    @Test
    void aFileThatIsNotALibraryIsReportedWithTheLoadersReason() throws Exception {
        Path bogus = Files.createTempFile("not-a-library", ".so");
        Files.writeString(bogus, "this is text, not ELF");
        try {
            List<String> attempts = new ArrayList<>();
            assertNull(LibraryLocator.locate(NativeLibrary.CUBLAS, bogus.toString(), null, attempts));
            assertTrue(attempts.get(0).contains("refused"), attempts::toString);
        } finally {
            Files.delete(bogus);
        }
    }

    @Test
    void aLibraryOfTheWrongKindOrVersionIsExplained() {
        // OpenBLAS where oneDNN 2 is expected: it loads, but lacks oneDNN's symbols.
        List<String> attempts = new ArrayList<>();
        assertNull(LibraryLocator.locate(NativeLibrary.DNNL, bundledOpenBlas(), null, attempts));
        assertTrue(attempts.get(0).contains("lacks dnnl_version"), attempts::toString);
        assertTrue(attempts.get(0).contains("oneDNN 2.x"), attempts::toString);
        NativeLibraryException failure = new NativeLibraryException(NativeLibrary.DNNL, attempts);
        assertTrue(failure.getMessage().contains("HINT: apt-get install libdnnl2"), failure.getMessage());
    }

    @Test
    void aMissingLibraryListsEveryPlaceTried() {
        List<String> attempts = new ArrayList<>();
        LoadedLibrary cudnn = LibraryLocator.locate(NativeLibrary.CUDNN, null, null, attempts);
        if (cudnn != null) {
            // A machine with cuDNN: it was found by one of the documented routes.
            assertTrue(List.of("dynamic loader", "well-known directory").contains(cudnn.source()), cudnn.source());
            return;
        }
        for (String soname : NativeLibrary.CUDNN.sonames()) {
            assertTrue(attempts.stream().anyMatch(a -> a.contains("dynamic loader: " + soname)), attempts::toString);
        }
        assertTrue(attempts.stream().anyMatch(a -> a.contains("/usr/local/cuda/lib64")), attempts::toString);
        NativeLibraryException failure = new NativeLibraryException(NativeLibrary.CUDNN, attempts);
        assertTrue(failure.getMessage().contains("isthmus.library.cudnn"), failure.getMessage());
        assertTrue(failure.getMessage().contains("ISTHMUS_LIBRARY_CUDNN"), failure.getMessage());
        assertEquals(attempts, failure.attempts());
    }

    @Test
    void theBundledCopyLoadsWhenNothingElseDoes() throws Exception {
        Path file = BundledLibrary.OPENBLAS.extract();
        assertTrue(Files.isRegularFile(file));
        for (String companion : List.of("libgfortran.so.5", "libquadmath.so.0")) {
            assertTrue(Files.isRegularFile(file.resolveSibling(companion)), companion);
        }
        List<String> attempts = new ArrayList<>();
        LoadedLibrary loaded = LibraryLocator.locate(NativeLibrary.OPENBLAS, file.toString(), null, attempts);
        assertNotNull(loaded, attempts::toString);
        assertTrue(loaded.lookup().find("openblas_get_config").isPresent());
    }

    @Test
    void bindingsLoadWithoutTheirLibraries() throws Exception {
        for (String binding : List.of("dev.isthmus.bindings.cuda.cuda_h", "dev.isthmus.bindings.cublas.cublas_h",
                "dev.isthmus.bindings.cudnn.cudnn_h", "dev.isthmus.bindings.cblas.cblas_h")) {
            Class<?> loaded = Class.forName(binding, true, getClass().getClassLoader());
            assertNotNull(loaded);
        }
    }

    @Test
    void callingIntoAMissingLibraryNamesTheLibrary() {
        // symbols() is what the generated code calls on first use of a function.
        if (NativeLibrary.CUDA.isAvailable()) {
            assertTrue(NativeLibrary.CUDA.symbols().find("cuInit").isPresent());
            return;
        }
        NativeLibraryException failure = assertThrows(NativeLibraryException.class,
                () -> NativeLibrary.CUDA.symbols().find("cuInit"));
        assertTrue(failure.getMessage().startsWith("CUDA driver"), failure.getMessage());
        assertTrue(failure.getMessage().contains("libcuda.so.1"), failure.getMessage());
    }

    private static String bundledOpenBlas() {
        try {
            return BundledLibrary.OPENBLAS.extract().toString();
        } catch (java.io.IOException e) {
            throw new AssertionError("the bundled OpenBLAS is not on the test class path", e);
        }
    }
}
