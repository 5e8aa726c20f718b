package dev.isthmus.probe;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.NativeLibraryException;

/**
 * Run in a fresh JVM by {@code NativeAccessTest}, outside the bindings' packages so that it can
 * stay on the class path while the bindings are a named module: asks for OpenBLAS and exits 0 when the locator
 * ran (whether or not the library is installed), or {@link #REFUSED} with the message when native
 * access was refused.
 */
public final class NativeAccessProbe {
    public static final int REFUSED = 3;

    private NativeAccessProbe() {
    }

    public static void main(String[] arguments) {
        try {
            NativeLibrary.OPENBLAS.load();
            System.out.println("loaded");
        } catch (NativeLibraryException missing) {
            System.out.println("not installed here: " + missing.getMessage());
        } catch (IllegalCallerException refused) {
            System.out.println(refused.getMessage());
            System.exit(REFUSED);
        }
    }
}
