package dev.isthmus.bindings;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Checks, before Isthmus's first restricted FFM call, that the JVM was started with native access
 * enabled for the modules that make those calls, and otherwise fails with one message naming the
 * exact flag to add.
 *
 * <p>Without the flag the JDK would only print a warning (or, under
 * {@code --illegal-native-access=deny}, throw an {@link IllegalCallerException} that the library
 * locator would report as "library not found"). On the module path the flag is
 * {@code --enable-native-access=dev.isthmus.bindings,dev.isthmus.core}; on the class path it is
 * {@code --enable-native-access=ALL-UNNAMED} (or the manifest entry
 * {@code Enable-Native-Access: ALL-UNNAMED} of an executable jar).
 */
public final class NativeAccess {
    /** The Isthmus modules that call restricted methods, in the order the flag lists them. */
    static final String BINDINGS_MODULE = "dev.isthmus.bindings";
    static final String CORE_MODULE = "dev.isthmus.core";

    private NativeAccess() {
    }

    /**
     * Throws unless native access is enabled for this module and for {@code caller}.
     *
     * @param caller    the module about to call a restricted method (core passes its own)
     * @param operation what was about to happen, for the message (e.g. "loading OpenBLAS")
     * @throws IllegalCallerException naming the {@code --enable-native-access} flag to add
     */
    public static void require(Module caller, String operation) {
        Module bindings = NativeAccess.class.getModule();
        if (bindings.isNativeAccessEnabled() && caller.isNativeAccessEnabled()) {
            return;
        }
        throw new IllegalCallerException(message(bindings, caller, operation));
    }

    /**
     * The flag that enables native access for Isthmus as these two modules are loaded.
     *
     * @param bindings the bindings' module
     * @param caller the module about to call a restricted method
     * @return the flag that enables native access for Isthmus as these two modules are loaded
     */
    public static String flag(Module bindings, Module caller) {
        Set<String> names = new LinkedHashSet<>();
        for (Module module : new Module[] {bindings, caller}) {
            if (!module.isNamed()) {
                names.add("ALL-UNNAMED");
            } else if (module.getName().startsWith("dev.isthmus.")) {
                // Both Isthmus modules are named together so that one flag serves every later call.
                names.add(BINDINGS_MODULE);
                names.add(CORE_MODULE);
            } else {
                names.add(module.getName());
            }
        }
        return "--enable-native-access=" + String.join(",", names);
    }

    static String message(Module bindings, Module caller, String operation) {
        String flag = flag(bindings, caller);
        String where = bindings.isNamed() || caller.isNamed() ? "on the module path" : "on the class path";
        return "Isthmus needs native access (" + operation + "), which this JVM does not grant: add "
                + flag + " to the java command line (Isthmus runs " + where + " here)"
                + (caller.isNamed() || bindings.isNamed() ? "" : ", or the manifest entry Enable-Native-Access: ALL-UNNAMED to an executable jar")
                + ".";
    }
}
