package dev.isthmus.io;

import dev.isthmus.data.ImageTransform;
import dev.isthmus.data.Normalization;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Sequential;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Class names and preprocessing travel in a checkpoint's metadata and come back unchanged. */
class InputMetadataTest {
    @TempDir
    Path folder;

    @Test
    void classNamesAndPreprocessingSurviveACheckpoint() throws IOException {
        Normalization normalization = new Normalization(new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.247f, 0.243f, 0.261f});
        InputMetadata inputs = new InputMetadata(List.of("cat", "dog", "ünïcode \"quoted\""), 3,
                new ImageTransform(3, 32, 32, 36, 32), normalization);
        Path file = folder.resolve("model.safetensors");
        try (CpuDevice device = new CpuDevice(1);
             Model model = new Model("tiny", new Sequential().add("flatten", new Flatten()).add("fc", new Linear(3 * 32 * 32, 3)),
                     Shape.of(3, 32, 32))) {
            model.build(device, 2, 0);
            Checkpoint.save(file, model, null, Map.of(), inputs.toMetadata());
            assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.save(file, model, null, Map.of(), Map.of("isthmus", "{}")));
            // The weights load as before: the extra entries are metadata, not tensors.
            Checkpoint.load(file, model, null);
        }
        InputMetadata read = InputMetadata.read(file);
        assertEquals(inputs.classNames(), read.classNames());
        assertEquals(3, read.classes());
        assertEquals(inputs.transform(), read.transform());
        assertArrayEquals(normalization.mean(), read.normalization().mean());
        assertArrayEquals(normalization.std(), read.normalization().std());
        try (SafeTensors opened = SafeTensors.open(file)) {
            // Plain JSON for Python readers: safe_open(file, "pt").metadata()["class_names"].
            assertEquals("[\"cat\",\"dog\",\"ünïcode \\\"quoted\\\"\"]", opened.metadata().get("class_names"));
            assertEquals("pt", opened.metadata().get("format"));
            Map<String, Object> preprocessing = Json.parseObject(opened.metadata().get("preprocessing"));
            assertEquals(36L, preprocessing.get("resize"));
            assertEquals(32L, preprocessing.get("center_crop"));
            assertEquals("bilinear", preprocessing.get("interpolation"));
        }
    }

    @Test
    void absentPartsStayAbsentAndMalformedOnesNameTheFile() {
        InputMetadata bare = new InputMetadata(null, 10, ImageTransform.toSize(1, 28, 28), null);
        Map<String, String> entries = bare.toMetadata();
        assertEquals(List.of("num_classes", "preprocessing"), List.copyOf(entries.keySet()));
        InputMetadata back = InputMetadata.fromMetadata(entries, folder);
        assertNull(back.classNames());
        assertNull(back.normalization());
        assertEquals(ImageTransform.toSize(1, 28, 28), back.transform());
        assertNull(InputMetadata.fromMetadata(Map.of("format", "pt"), folder));

        Path file = folder.resolve("bad.safetensors");
        for (Map<String, String> bad : List.of(Map.of("class_names", "{\"not\": \"a list\"}"),
                Map.of("class_names", "[\"a\", \"b\"]", "num_classes", "3"),
                Map.of("num_classes", "3", "preprocessing", "{\"channels\": 2, \"height\": 28, \"width\": 28}"),
                Map.of("num_classes", "3", "preprocessing", "{\"channels\": 1, \"height\": 28.5, \"width\": 28}"),
                Map.of("num_classes", "three"))) {
            FileFormatException refused = assertThrows(FileFormatException.class, () -> InputMetadata.fromMetadata(bad, file));
            assertTrue(refused.getMessage().contains(file.toString()), refused.getMessage());
        }
    }
}
