package dev.isthmus.bindings;

import dev.isthmus.probe.NativeAccessProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM started without {@code --enable-native-access} gets Isthmus's own message naming the flag,
 * on the class path and on the module path, and the named flag is enough. Each case is a fresh JVM
 * (native access is fixed at start-up) running {@link NativeAccessProbe}.
 */
class NativeAccessTest {
    private static final Path CLASSES = Path.of("target", "classes").toAbsolutePath();
    private static final Path TEST_CLASSES = Path.of("target", "test-classes").toAbsolutePath();
    private static final String MODULE_FLAG = "--enable-native-access=dev.isthmus.bindings,dev.isthmus.core";

    @TempDir
    Path work;

    @Test
    void theFlagForTheClassPathIsAllUnnamed() {
        Module unnamed = NativeAccessTest.class.getModule();
        assertEquals("--enable-native-access=ALL-UNNAMED", NativeAccess.flag(unnamed, unnamed));
        assertEquals("--enable-native-access=ALL-UNNAMED,java.base", NativeAccess.flag(unnamed, Object.class.getModule()));
    }

    @Test
    void withoutTheFlagOnTheClassPathTheMessageNamesAllUnnamed() throws Exception {
        Run run = java(List.of("-cp", CLASSES + java.io.File.pathSeparator + TEST_CLASSES,
                NativeAccessProbe.class.getName()));
        assertEquals(NativeAccessProbe.REFUSED, run.exitCode, run.output);
        assertTrue(run.output.contains("add --enable-native-access=ALL-UNNAMED to the java command line"), run.output);
        assertTrue(run.output.contains("loading OpenBLAS"), run.output);
        assertFalse(run.output.contains("WARNING: A restricted method"),
                "Isthmus must speak before the JDK's own warning:\n" + run.output);
    }

    @Test
    void withAllUnnamedOnTheClassPathNoMessage() throws Exception {
        Run run = java(List.of("--enable-native-access=ALL-UNNAMED", "--illegal-native-access=deny",
                "-cp", CLASSES + java.io.File.pathSeparator + TEST_CLASSES, NativeAccessProbe.class.getName()));
        assertEquals(0, run.exitCode, run.output);
        assertFalse(run.output.contains("needs native access"), run.output);
    }

    @Test
    void withoutTheFlagOnTheModulePathTheMessageNamesTheIsthmusModules() throws Exception {
        Run run = java(modulePath(List.of()));
        assertEquals(NativeAccessProbe.REFUSED, run.exitCode, run.output);
        assertTrue(run.output.contains("add " + MODULE_FLAG + " to the java command line"), run.output);
        assertTrue(run.output.contains("on the module path"), run.output);
    }

    @Test
    void theNamedModuleFlagIsEnoughOnTheModulePath() throws Exception {
        // Only the bindings are on this module path; dev.isthmus.core would be an unknown module here.
        Run run = java(modulePath(List.of("--enable-native-access=dev.isthmus.bindings", "--illegal-native-access=deny")));
        assertEquals(0, run.exitCode, run.output);
        assertFalse(run.output.contains("needs native access"), run.output);
    }

    /**
     * The bindings as the named module dev.isthmus.bindings, in a modular jar made here: the
     * descriptor compiled from src/main/module (the build compiles it only when packaging) and the
     * compiled classes.
     */
    private List<String> modulePath(List<String> flags) throws IOException {
        Path descriptorClasses = Files.createDirectories(work.resolve("descriptor"));
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int compiled = ToolProvider.getSystemJavaCompiler().run(null, errors, errors,
                "-d", descriptorClasses.toString(), "--patch-module", "dev.isthmus.bindings=" + CLASSES,
                Path.of("src", "main", "module", "module-info.java").toAbsolutePath().toString());
        assertEquals(0, compiled, "compiling the module descriptor: " + errors.toString(StandardCharsets.UTF_8));
        Path jar = work.resolve("isthmus-bindings.jar");
        java.util.spi.ToolProvider jarTool = java.util.spi.ToolProvider.findFirst("jar").orElseThrow();
        int packed = jarTool.run(System.out, System.err, "--create", "--file", jar.toString(),
                "-C", CLASSES.toString(), ".", "-C", descriptorClasses.toString(), "module-info.class");
        assertEquals(0, packed, "jar --create " + jar);
        List<String> arguments = new ArrayList<>(flags);
        arguments.addAll(List.of("--module-path", jar.toString(), "--add-modules", "dev.isthmus.bindings",
                "-cp", TEST_CLASSES.toString(), NativeAccessProbe.class.getName()));
        return arguments;
    }

    private record Run(int exitCode, String output) {
    }

    private static Run java(List<String> arguments) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(arguments);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not end");
        return new Run(process.exitValue(), String.join(" ", command) + "\n" + new String(output, StandardCharsets.UTF_8));
    }
}
