package dev.isthmus.bindings;

import java.util.List;

/**
 * A native library could not be found or loaded. The message lists every place the locator
 * tried, in order, and says how to point Isthmus at the library.
 */
public final class NativeLibraryException extends RuntimeException {
    /** The library that could not be loaded. */
    private final NativeLibrary library;
    /** Each place tried, with why it did not work. */
    private final List<String> attempts;

    NativeLibraryException(NativeLibrary library, List<String> attempts) {
        super(message(library, attempts));
        this.library = library;
        this.attempts = List.copyOf(attempts);
    }

    /** {@return the library that could not be loaded} */
    public NativeLibrary library() {
        return library;
    }

    /**
     * Each place tried, with why it did not work, in the order tried.
     *
     * @return each place tried, with why it did not work, in the order tried
     */
    public List<String> attempts() {
        return attempts;
    }

    private static String message(NativeLibrary library, List<String> attempts) {
        StringBuilder text = new StringBuilder()
                .append(library.displayName()).append(" (").append(library.purpose()).append(") was not found. Tried:");
        for (String attempt : attempts) {
            text.append("\n  - ").append(attempt);
        }
        text.append("\nHINT: ").append(library.installHint())
                .append(" or set -D").append(library.propertyKey()).append("=/path/to/library")
                .append(" (or the environment variable ").append(library.environmentKey()).append(").");
        return text.toString();
    }
}
