package dev.isthmus.bindings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * cuDNN's {@code libcudnn.so.8} and {@code .so.9} are shims that open their sub-libraries
 * ({@code libcudnn_graph}, {@code _ops}, {@code _cnn}, the engines…) with dlopen by soname when
 * first needed. The dynamic loader then searches its own path, not the folder the shim came from,
 * so a cuDNN found by path (an override, a well-known folder, a Python package's
 * {@code nvidia/cudnn/lib}) would load and fail at its first real call. Loading the sub-libraries
 * from that folder first, dependencies before dependents, fixes it: dlopen by soname finds a
 * library that is already loaded.
 */
final class SubLibraries {
    /** A sub-library file; a required one that is present but does not load makes the folder unusable. */
    record SubLibrary(String soname, boolean required) {
    }

    /** Loads one file (dlopen); throws with the loader's reason when it cannot. */
    interface Loader {
        void load(Path file);
    }

    /**
     * What happened: the files loaded and the optional ones that did not (for {@code isthmus info}),
     * and why the folder is unusable, or null.
     */
    record Outcome(List<String> notes, String failure) {
    }

    // Isthmus calls the legacy API, which lives in ops (pooling, activations, softmax, batch norm)
    // and cnn (convolutions), both over graph; the rest serve other APIs or are found lazily.
    private static final List<SubLibrary> CUDNN_9 = List.of(
            new SubLibrary("libcudnn_graph.so.9", true),
            new SubLibrary("libcudnn_engines_precompiled.so.9", false),
            new SubLibrary("libcudnn_engines_runtime_compiled.so.9", false),
            new SubLibrary("libcudnn_heuristic.so.9", false),
            new SubLibrary("libcudnn_ops.so.9", true),
            new SubLibrary("libcudnn_cnn.so.9", true),
            new SubLibrary("libcudnn_adv.so.9", false));
    private static final List<SubLibrary> CUDNN_8 = List.of(
            new SubLibrary("libcudnn_ops_infer.so.8", true),
            new SubLibrary("libcudnn_ops_train.so.8", true),
            new SubLibrary("libcudnn_cnn_infer.so.8", true),
            new SubLibrary("libcudnn_cnn_train.so.8", true),
            new SubLibrary("libcudnn_adv_infer.so.8", false),
            new SubLibrary("libcudnn_adv_train.so.8", false));

    private SubLibraries() {
    }

    /** The sub-libraries of {@code file} (a {@code library} found by path), in load order; empty for most libraries. */
    static List<SubLibrary> of(NativeLibrary library, Path file) {
        if (library != NativeLibrary.CUDNN) {
            return List.of();
        }
        int major = DriverCompatibility.sonameMajor(realName(file));
        if (major < 0) {
            // An unversioned libcudnn.so that is no symbolic link: tell the versions apart by their sub-libraries.
            major = Files.exists(siblingOf(file, CUDNN_9.get(0).soname())) ? 9 : 8;
        }
        return switch (major) {
            case 9 -> CUDNN_9;
            case 8 -> CUDNN_8;
            default -> List.of();
        };
    }

    /** Loads, in order, each sub-library of {@code file} present beside it. */
    static Outcome loadBeside(NativeLibrary library, Path file, Loader loader) {
        List<String> notes = new ArrayList<>();
        for (SubLibrary sub : of(library, file)) {
            Path companion = siblingOf(file, sub.soname());
            if (!Files.exists(companion)) {
                continue;
            }
            try {
                loader.load(companion);
                notes.add("loaded " + companion);
            } catch (IllegalArgumentException | IllegalCallerException notLoadable) {
                String why = companion + " did not load: " + notLoadable.getMessage();
                if (sub.required()) {
                    return new Outcome(notes, "its sub-library " + why);
                }
                notes.add(why);
            }
        }
        return new Outcome(notes, null);
    }

    private static Path siblingOf(Path file, String name) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? Path.of(name) : parent.resolve(name);
    }

    /** The file name, or that of the file a symbolic link points to (libcudnn.so → libcudnn.so.9.1.0). */
    private static String realName(Path file) {
        String name = file.getFileName().toString();
        if (DriverCompatibility.sonameMajor(name) >= 0) {
            return name;
        }
        try {
            return file.toRealPath().getFileName().toString();
        } catch (IOException unresolvable) {
            return name;
        }
    }
}
