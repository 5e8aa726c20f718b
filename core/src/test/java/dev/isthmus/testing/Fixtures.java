package dev.isthmus.testing;

import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The PyTorch reference fixtures under {@code src/test/resources/fixtures}, written by
 * {@code make_fixtures.py} with Debian's python3-torch. Tests read them; they never need PyTorch.
 */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path folder(String group) {
        URL url = Fixtures.class.getResource("/fixtures/" + group);
        if (url == null) {
            throw new IllegalStateException("no fixtures/" + group + " on the test class path");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The case names (file names without .safetensors) of a group, sorted. */
    public static List<String> cases(String group) {
        try (Stream<Path> files = Files.list(folder(group))) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".safetensors"))
                    .map(n -> n.substring(0, n.length() - ".safetensors".length()))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static SafeTensors open(String group, String name) {
        try {
            return SafeTensors.open(folder(group).resolve(name + ".safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, Object> config(SafeTensors fixture) {
        return Json.parseObject(fixture.metadata().get("config"));
    }

    public static int integer(Map<String, Object> config, String key) {
        return ((Number) config.get(key)).intValue();
    }

    public static float decimal(Map<String, Object> config, String key) {
        return ((Number) config.get(key)).floatValue();
    }

    /** A [h, w] pair from the config. */
    public static int[] pair(Map<String, Object> config, String key) {
        List<?> values = (List<?>) config.get(key);
        return new int[] {((Number) values.get(0)).intValue(), ((Number) values.get(1)).intValue()};
    }

    /** Element-wise |expected − actual| ≤ atol + rtol·|expected|. */
    public static void assertClose(String what, float[] expected, float[] actual, double rtol, double atol) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tolerance = atol + rtol * Math.abs(expected[i]);
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance)) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]
                        + " (tolerance " + tolerance + ")");
            }
        }
    }
}
