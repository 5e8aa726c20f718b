package dev.isthmus.bindings;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cuDNN found by path: its sub-libraries are loaded from the same folder, dependencies first. */
class SubLibrariesTest {
    @TempDir
    Path folder;

    private Path layout(String... names) throws Exception {
        for (String name : names) {
            Files.writeString(folder.resolve(name), "stand-in for " + name);
        }
        return folder.resolve(names[0]);
    }

    @Test
    void cudnn9SubLibrariesLoadFromTheSameFolderInDependencyOrderAndAbsentOnesAreSkipped() throws Exception {
        // The pip wheel's layout, less libcudnn_adv (absent files are not an error).
        Path shim = layout("libcudnn.so.9", "libcudnn_cnn.so.9", "libcudnn_ops.so.9", "libcudnn_graph.so.9",
                "libcudnn_engines_precompiled.so.9", "libcudnn_heuristic.so.9");
        List<Path> loaded = new ArrayList<>();
        SubLibraries.Outcome outcome = SubLibraries.loadBeside(NativeLibrary.CUDNN, shim, loaded::add);
        assertNull(outcome.failure());
        assertEquals(List.of(folder.resolve("libcudnn_graph.so.9"), folder.resolve("libcudnn_engines_precompiled.so.9"),
                folder.resolve("libcudnn_heuristic.so.9"), folder.resolve("libcudnn_ops.so.9"),
                folder.resolve("libcudnn_cnn.so.9")), loaded);
        assertEquals(5, outcome.notes().size(), outcome.notes()::toString);
    }

    @Test
    void aRequiredSubLibraryThatDoesNotLoadMakesTheFolderUnusableWithTheLoadersReason() throws Exception {
        Path shim = layout("libcudnn.so.9", "libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9");
        List<Path> loaded = new ArrayList<>();
        SubLibraries.Outcome outcome = SubLibraries.loadBeside(NativeLibrary.CUDNN, shim, file -> {
            if (file.getFileName().toString().equals("libcudnn_ops.so.9")) {
                throw new IllegalArgumentException("libcublasLt.so.13: cannot open shared object file");
            }
            loaded.add(file);
        });
        assertTrue(outcome.failure().contains("libcudnn_ops.so.9 did not load"), outcome.failure());
        assertTrue(outcome.failure().contains("libcublasLt.so.13"), outcome.failure());
        assertEquals(List.of(folder.resolve("libcudnn_graph.so.9")), loaded, "nothing after the failure is loaded");
    }

    @Test
    void anOptionalSubLibraryThatDoesNotLoadIsNotedAndTheRestGoOn() throws Exception {
        Path shim = layout("libcudnn.so.9", "libcudnn_graph.so.9", "libcudnn_engines_runtime_compiled.so.9",
                "libcudnn_ops.so.9", "libcudnn_cnn.so.9");
        SubLibraries.Outcome outcome = SubLibraries.loadBeside(NativeLibrary.CUDNN, shim, file -> {
            if (file.getFileName().toString().contains("runtime_compiled")) {
                throw new IllegalArgumentException("libnvrtc.so.13: cannot open shared object file");
            }
        });
        assertNull(outcome.failure());
        assertTrue(outcome.notes().stream().anyMatch(n -> n.contains("runtime_compiled.so.9 did not load")
                && n.contains("libnvrtc")), outcome.notes()::toString);
        assertTrue(outcome.notes().getLast().endsWith("libcudnn_cnn.so.9"), outcome.notes()::toString);
    }

    @Test
    void cudnn8HasItsOwnSubLibrariesAndOtherLibrariesHaveNone() throws Exception {
        Path shim = layout("libcudnn.so.8", "libcudnn_ops_infer.so.8", "libcudnn_cnn_train.so.8", "libcudnn_graph.so.9");
        List<Path> loaded = new ArrayList<>();
        SubLibraries.loadBeside(NativeLibrary.CUDNN, shim, loaded::add);
        assertEquals(List.of(folder.resolve("libcudnn_ops_infer.so.8"), folder.resolve("libcudnn_cnn_train.so.8")), loaded);
        assertEquals(List.of(), SubLibraries.of(NativeLibrary.CUBLAS, folder.resolve("libcublas.so.13")));
    }

    @Test
    void anUnversionedLinkIsResolvedToTellTheVersion() throws Exception {
        Path real = layout("libcudnn.so.9.1.0", "libcudnn_graph.so.9");
        Path link = Files.createSymbolicLink(folder.resolve("libcudnn.so"), real.getFileName());
        assertEquals("libcudnn_graph.so.9", SubLibraries.of(NativeLibrary.CUDNN, link).get(0).soname());
    }
}
