package dev.isthmus.device;

import dev.isthmus.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
 * Core's own ways into native code (opening the CPU device, mapping a checkpoint, probing the
 * libraries) each refuse, in a JVM started without {@code --enable-native-access}, with Isthmus's
 * message naming the flag, before the JDK would warn. The JVM is a fresh one on this test's class
 * path running {@link Probe}.
 */
class NativeAccessRefusalTest {
    @TempDir
    Path folder;

    /** Tries each entry point and prints the refusal it got, or "ALLOWED". */
    public static final class Probe {
        public static void main(String[] arguments) {
            attempt(() -> Devices.cpu(1).close());
            attempt(() -> SafeTensors.open(Path.of(arguments[0])).close());
            attempt(NativeStatus::report);
        }

        private interface Action {
            void run() throws Exception;
        }

        private static void attempt(Action action) {
            try {
                action.run();
                System.out.println("ALLOWED");
            } catch (IllegalCallerException refused) {
                System.out.println("REFUSED " + refused.getMessage());
            } catch (Exception other) {
                System.out.println("OTHER " + other);
            }
        }
    }

    @Test
    void withoutTheFlagEachEntryPointNamesTheFlag() throws Exception {
        Path checkpoint = Files.write(folder.resolve("empty.safetensors"), new byte[16]);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Probe.class.getName(), checkpoint.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not end");
        assertEquals(0, process.exitValue(), output);
        List<String> lines = output.lines().filter(line -> line.startsWith("REFUSED") || line.startsWith("ALLOWED")
                || line.startsWith("OTHER")).toList();
        assertEquals(3, lines.size(), output);
        String[] operations = {"opening the CPU device", "reading " + checkpoint, "probing the native libraries"};
        for (int i = 0; i < 3; i++) {
            assertTrue(lines.get(i).startsWith("REFUSED Isthmus needs native access (" + operations[i] + ")"), output);
            assertTrue(lines.get(i).contains("add --enable-native-access=ALL-UNNAMED to the java command line"), output);
        }
        assertFalse(output.contains("WARNING: A restricted method"), "Isthmus must speak before the JDK:\n" + output);
    }
}
