package dev.isthmus.bindings;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The real thing with stand-in libraries: a shim named libcudnn.so.9 that, like cuDNN 9's, opens
 * libcudnn_ops.so.9 and libcudnn_cnn.so.9 by soname when called, in a folder the dynamic loader does
 * not search; ops needs graph (DT_NEEDED) and cnn needs ops. Built with the C compiler at test time,
 * so the test is skipped, with that reason, where there is none.
 */
class CudnnShimLoadingTest {
    @TempDir
    Path folder;

    @Test
    void theShimFindsItsSubLibrariesOnceTheLocatorHasLoadedThemFromItsFolder() throws Throwable {
        Assumptions.assumeTrue(compilerPresent(), "no C compiler (cc) on PATH to build the stand-in libraries");
        Assumptions.assumeFalse(loaderFinds("libcudnn_ops.so.9"),
                "a real cuDNN 9 is on the loader's path here, so the stand-ins cannot be told apart from it");
        compile("libcudnn_graph.so.9", "int graph_marker(void) { return 1; }");
        compile("libcudnn_ops.so.9", "int graph_marker(void); int ops_marker(void) { return graph_marker() + 1; }",
                "libcudnn_graph.so.9");
        compile("libcudnn_cnn.so.9", "int ops_marker(void); int cnn_marker(void) { return ops_marker() + 1; }",
                "libcudnn_ops.so.9");
        compile("libcudnn.so.9", """
                #include <dlfcn.h>
                #include <stddef.h>
                size_t cudnnGetVersion(void) {
                    return dlopen("libcudnn_ops.so.9", RTLD_NOW) && dlopen("libcudnn_cnn.so.9", RTLD_NOW) ? 90100 : 0;
                }
                int cudnnConvolutionForward(void) { return 0; }
                """, "-ldl");
        Path shim = folder.resolve("libcudnn.so.9");

        // Loaded as the locator did before: the shim cannot find its sub-libraries.
        assertEquals(0L, version(SymbolLookup.libraryLookup(shim, Arena.global())), "the premise: dlopen by soname misses the folder");

        List<String> attempts = new ArrayList<>();
        LoadedLibrary cudnn = LibraryLocator.locate(NativeLibrary.CUDNN, shim.toString(), null, attempts);
        assertNotNull(cudnn, attempts::toString);
        assertEquals(List.of("loaded " + folder.resolve("libcudnn_graph.so.9"), "loaded " + folder.resolve("libcudnn_ops.so.9"),
                "loaded " + folder.resolve("libcudnn_cnn.so.9")), cudnn.subLibraries());
        assertEquals(90100L, version(cudnn.lookup()), "the shim's dlopen by soname now finds the loaded sub-libraries");
    }

    private static long version(SymbolLookup lookup) throws Throwable {
        MethodHandle getVersion = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("cudnnGetVersion"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG));
        return (long) getVersion.invokeExact();
    }

    private static boolean loaderFinds(String soname) {
        try {
            SymbolLookup.libraryLookup(soname, Arena.global());
            return true;
        } catch (IllegalArgumentException notFound) {
            return false;
        }
    }

    private static boolean compilerPresent() {
        try {
            return run(List.of("cc", "--version"), Path.of(".")) == 0;
        } catch (IOException | InterruptedException absent) {
            return false;
        }
    }

    /** cc -shared with the soname set, linked against the named libraries of the folder (or -l flags). */
    private void compile(String soname, String source, String... links) throws Exception {
        Path file = folder.resolve(soname.replace(".so.9", ".c"));
        Files.writeString(file, source);
        List<String> command = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-o", soname, file.getFileName().toString(),
                "-Wl,-soname," + soname));
        for (String link : links) {
            command.add(link.startsWith("-") ? link : "./" + link);
        }
        assertEquals(0, run(command, folder), () -> "cc failed: " + command);
    }

    private static int run(List<String> command, Path directory) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
    }
}
