package dev.isthmus.bindings;

import java.lang.foreign.SymbolLookup;
import java.util.List;

/**
 * A native library the locator loaded.
 *
 * @param library      which library
 * @param location     the file, or the soname the dynamic loader resolved
 * @param source       how it was found: "override", "dynamic loader", "well-known directory", "bundled"
 * @param lookup       its symbols
 * @param subLibraries what became of the sub-libraries loaded from its folder first (cuDNN found by
 *                     path; see {@link SubLibraries}), empty otherwise
 */
public record LoadedLibrary(NativeLibrary library, String location, String source, SymbolLookup lookup,
                            List<String> subLibraries) {
    /** Checks that every component is present. */
    public LoadedLibrary {
        subLibraries = List.copyOf(subLibraries);
    }

    /**
     * A library without sub-libraries.
     *
     * @param library the library
     * @param location where the library was found
     * @param source the tensor copied from
     * @param lookup the library's symbols
     */
    public LoadedLibrary(NativeLibrary library, String location, String source, SymbolLookup lookup) {
        this(library, location, source, lookup, List.of());
    }
}
