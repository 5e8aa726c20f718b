package dev.isthmus.bindings;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves each {@link NativeLibrary} in the order DESIGN.md §3 fixes: an explicit override
 * (system property, then environment variable), versioned sonames through the dynamic loader,
 * well-known directories (and Python environments' {@code nvidia/.../lib} folders for the
 * CUDA libraries), and last a copy bundled on the class path. Nothing is ever downloaded. A
 * library whose soname names a CUDA version the driver cannot run is skipped (see
 * {@link DriverCompatibility}), and cuDNN found by path has its sub-libraries loaded from the same
 * folder first (see {@link SubLibraries}).
 */
final class LibraryLocator {
    private static final Map<NativeLibrary, Object> OUTCOMES = new EnumMap<>(NativeLibrary.class);

    private LibraryLocator() {
    }

    static synchronized LoadedLibrary load(NativeLibrary library) {
        // Without native access the lookups below would fail as if the library were missing.
        NativeAccess.require(NativeAccess.class.getModule(), "loading " + library.displayName());
        // Not computeIfAbsent: locating cuBLAS asks the driver its version, which loads libcuda first.
        Object outcome = OUTCOMES.get(library);
        if (outcome == null) {
            outcome = locate(library);
            OUTCOMES.put(library, outcome);
        }
        if (outcome instanceof LoadedLibrary loaded) {
            return loaded;
        }
        throw (NativeLibraryException) outcome;
    }

    /** For tests: forget what was resolved so that a changed override is read again. */
    static synchronized void forget(NativeLibrary library) {
        OUTCOMES.remove(library);
    }

    private static Object locate(NativeLibrary library) {
        List<String> attempts = new ArrayList<>();
        int driverVersion = library.namesCudaVersion() ? DriverCompatibility.installedDriverVersion()
                : DriverCompatibility.UNKNOWN;
        LoadedLibrary loaded = locate(library, System.getProperty(library.propertyKey()),
                System.getenv(library.environmentKey()), driverVersion, attempts);
        return loaded != null ? loaded : new NativeLibraryException(library, attempts);
    }

    /** {@link #locate(NativeLibrary, String, String, int, List)} without a driver version to respect. */
    static LoadedLibrary locate(NativeLibrary library, String propertyValue, String environmentValue,
                                List<String> attempts) {
        return locate(library, propertyValue, environmentValue, DriverCompatibility.UNKNOWN, attempts);
    }

    /**
     * Tries each place in order and returns the first library that loads, or null with
     * {@code attempts} listing every place tried and why it failed. Sonames built for a newer CUDA
     * than {@code driverVersion} are skipped (an explicit override never is).
     */
    static LoadedLibrary locate(NativeLibrary library, String propertyValue, String environmentValue,
                                int driverVersion, List<String> attempts) {
        String explicit = propertyValue;
        String explicitFrom = "-D" + library.propertyKey();
        if (explicit == null || explicit.isBlank()) {
            explicit = environmentValue;
            explicitFrom = library.environmentKey();
        }
        if (explicit != null && !explicit.isBlank()) {
            // An explicit choice is final: falling back silently would hide the user's mistake.
            return tryPath(library, Path.of(explicit), "override (" + explicitFrom + ")", attempts);
        }

        List<String> sonames = new ArrayList<>();
        for (String soname : library.sonames()) {
            String refusal = library.namesCudaVersion() ? DriverCompatibility.refusal(soname, driverVersion) : null;
            if (refusal == null) {
                sonames.add(soname);
            } else {
                attempts.add("skipped " + soname + ": " + refusal);
            }
        }

        for (String soname : sonames) {
            try {
                SymbolLookup lookup = SymbolLookup.libraryLookup(soname, Arena.global());
                String missing = missingSymbol(library, lookup);
                if (missing == null) {
                    return new LoadedLibrary(library, soname, "dynamic loader", lookup);
                }
                attempts.add("dynamic loader: " + soname + " (" + missing + ")");
            } catch (IllegalArgumentException | IllegalCallerException notLoadable) {
                attempts.add("dynamic loader: " + soname + " (not found on the loader's path)");
            }
        }

        for (Path directory : sonames.isEmpty() ? List.<Path>of() : candidateDirectories(library)) {
            for (String soname : sonames) {
                Path file = directory.resolve(soname);
                if (Files.exists(file)) {
                    LoadedLibrary found = tryPath(library, file, "well-known directory", attempts);
                    if (found != null) {
                        return found;
                    }
                }
            }
            attempts.add("directory " + directory + " (no " + String.join(", ", sonames) + ")");
        }

        if (library.bundled().isPresent()) {
            BundledLibrary bundled = library.bundled().get();
            try {
                Path file = bundled.extract();
                LoadedLibrary loaded = tryPath(library, file, "bundled (" + bundled.description() + ")", attempts);
                if (loaded != null) {
                    return loaded;
                }
            } catch (IOException | RuntimeException unavailable) {
                attempts.add("bundled " + bundled.description() + " (" + unavailable.getMessage() + ")");
            }
        }
        return null;
    }

    private static LoadedLibrary tryPath(NativeLibrary library, Path file, String source, List<String> attempts) {
        if (!Files.isRegularFile(file)) {
            attempts.add(source + ": " + file + " (no such file)");
            return null;
        }
        String notElf = notAnElfFile(file);
        if (notElf != null) {
            attempts.add(source + ": " + file + " (the dynamic loader refused it: " + notElf + ")");
            return null;
        }
        SubLibraries.Outcome subLibraries = SubLibraries.loadBeside(library, file,
                companion -> SymbolLookup.libraryLookup(companion, Arena.global()));
        if (subLibraries.failure() != null) {
            attempts.add(source + ": " + file + " (" + subLibraries.failure() + ")");
            return null;
        }
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(file, Arena.global());
            String missing = missingSymbol(library, lookup);
            if (missing != null) {
                attempts.add(source + ": " + file + " (" + missing + ")");
                return null;
            }
            return new LoadedLibrary(library, file.toString(), source, lookup, subLibraries.notes());
        } catch (IllegalArgumentException | IllegalCallerException notLoadable) {
            attempts.add(source + ": " + file + " (the dynamic loader refused it: " + notLoadable.getMessage() + ")");
            return null;
        }
    }

    /** Null when the lookup exports the library's signature, else why it is not the library Isthmus needs. */
    private static String missingSymbol(NativeLibrary library, SymbolLookup lookup) {
        for (String symbol : library.signature()) {
            if (lookup.find(symbol).isEmpty()) {
                return "loaded, but it lacks " + symbol + ": not " + library.expected() + " or an unsupported version";
            }
        }
        return null;
    }

    /** Why the file cannot be a shared library, or null; checked before dlopen, which is noisy on garbage. */
    private static String notAnElfFile(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            boolean elf = magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
            return elf ? null : "not an ELF shared library";
        } catch (IOException unreadable) {
            return "unreadable: " + unreadable.getMessage();
        }
    }

    private static List<Path> candidateDirectories(NativeLibrary library) {
        List<Path> directories = new ArrayList<>();
        for (String directory : library.wellKnownDirectories()) {
            directories.add(Path.of(directory));
        }
        if (!library.pythonPackageDirectories().isEmpty()) {
            for (Path sitePackages : pythonSitePackages()) {
                for (String relative : library.pythonPackageDirectories()) {
                    Path candidate = sitePackages.resolve(relative);
                    if (Files.isDirectory(candidate)) {
                        directories.add(candidate);
                    }
                }
            }
        }
        return directories;
    }

    /** site-packages / dist-packages folders of the usual Python installations. */
    private static List<Path> pythonSitePackages() {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("user.home", "/root");
        for (String base : List.of("/usr/local/lib", "/usr/lib", "/opt/conda/lib", home + "/.local/lib")) {
            Path basePath = Path.of(base);
            if (!Files.isDirectory(basePath)) {
                continue;
            }
            try (DirectoryStream<Path> pythons = Files.newDirectoryStream(basePath, "python3*")) {
                for (Path python : pythons) {
                    for (String kind : List.of("site-packages", "dist-packages")) {
                        Path packages = python.resolve(kind);
                        if (Files.isDirectory(packages)) {
                            roots.add(packages);
                        }
                    }
                }
            } catch (IOException unreadable) {
                // An unreadable folder is simply not a candidate.
            }
        }
        return roots;
    }
}
