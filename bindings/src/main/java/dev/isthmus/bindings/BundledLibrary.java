package dev.isthmus.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Properties;

/**
 * A native library shipped inside a Maven artifact on the class path. It is copied once into a
 * cache folder (the dynamic loader needs a file) and loaded from there; its own dependencies sit
 * beside it and are found through the library's {@code $ORIGIN} run path.
 */
enum BundledLibrary {
    OPENBLAS("org/bytedeco/openblas/linux-x86_64/", "libopenblas.so.0",
            List.of("libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1"),
            "META-INF/maven/org.bytedeco/openblas/pom.properties");

    private final String resourceFolder;
    private final String mainFile;
    private final List<String> companionFiles;
    private final String versionResource;

    BundledLibrary(String resourceFolder, String mainFile, List<String> companionFiles, String versionResource) {
        this.resourceFolder = resourceFolder;
        this.mainFile = mainFile;
        this.companionFiles = companionFiles;
        this.versionResource = versionResource;
    }

    String description() {
        return "class-path resource " + resourceFolder + mainFile;
    }

    /** Copies the library and its companions to the cache (unless already there) and returns the main file. */
    Path extract() throws IOException {
        ClassLoader loader = BundledLibrary.class.getClassLoader();
        if (loader.getResource(resourceFolder + mainFile) == null) {
            throw new IOException("not on the class path");
        }
        Path target = cacheRoot().resolve(name().toLowerCase(java.util.Locale.ROOT) + "-" + version(loader));
        Files.createDirectories(target);
        for (String companion : companionFiles) {
            copyIfMissing(loader, companion, target);
        }
        return copyIfMissing(loader, mainFile, target);
    }

    private Path copyIfMissing(ClassLoader loader, String file, Path target) throws IOException {
        Path destination = target.resolve(file);
        if (Files.isRegularFile(destination)) {
            return destination;
        }
        try (InputStream in = loader.getResourceAsStream(resourceFolder + file)) {
            if (in == null) {
                throw new IOException("class-path resource " + resourceFolder + file + " is missing");
            }
            // Copy to a private temporary name and rename, so two JVMs starting at once never load half a file.
            Path partial = Files.createTempFile(target, file, ".partial");
            try {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                Files.move(partial, destination, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
        return destination;
    }

    private String version(ClassLoader loader) throws IOException {
        try (InputStream in = loader.getResourceAsStream(versionResource)) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        }
    }

    private static Path cacheRoot() {
        String configured = System.getProperty("isthmus.cache", System.getenv("ISTHMUS_BUNDLED_CACHE"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("isthmus").resolve("native");
    }
}
