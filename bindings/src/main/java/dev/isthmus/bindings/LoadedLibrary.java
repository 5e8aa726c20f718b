package dev.isthmus.bindings;

import java.lang.foreign.SymbolLookup;

/**
 * A native library the locator loaded.
 *
 * @param library  which library
 * @param location the file, or the soname the dynamic loader resolved
 * @param source   how it was found: "override", "dynamic loader", "well-known directory", "bundled"
 * @param lookup   its symbols
 */
public record LoadedLibrary(NativeLibrary library, String location, String source, SymbolLookup lookup) {
}
