package dev.isthmus.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path folder;

    @Test
    void writesAndReadsBack() throws IOException {
        Path file = folder.resolve("a.safetensors");
        SafeTensors.write(file, List.of(
                new SafeTensors.Item("w", "F32", new int[] {2, 2}, MemorySegment.ofArray(new float[] {1, 2, 3, 4})),
                new SafeTensors.Item("labels", "I32", new int[] {3}, MemorySegment.ofArray(new int[] {7, 8, 9}))),
                Map.of("format", "pt"));
        try (SafeTensors read = SafeTensors.open(file)) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, read.floats("w"));
            assertArrayEquals(new int[] {7, 8, 9}, read.ints("labels"));
            assertArrayEquals(new int[] {2, 2}, read.entry("w").shape());
            assertEquals("pt", read.metadata().get("format"));
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> read.floats("b"));
            assertTrue(missing.getMessage().contains("no tensor named 'b'"));
        }
        assertEquals(0, Files.list(folder).filter(p -> p.toString().endsWith(".partial")).count());
    }

    private Path raw(String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(json.length).put(json);
        Path file = Files.createTempFile(folder, "bad", ".safetensors");
        Files.write(file, buffer.array());
        return file;
    }

    @Test
    void hostileHeadersAreRefusedWithFileAndOffset() throws IOException {
        assertRefused(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4), "claims bytes [0, 8)");
        assertRefused(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "needs 12 bytes");
        assertRefused(raw("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "unknown dtype");
        assertRefused(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), "invalid dimension");
        assertRefused(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,8]}}", 8), "more than 2^31-1");
        assertRefused(raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), "claims bytes");
        assertRefused(raw("{\"w\": [1, 2", 0), "not valid JSON");
        assertRefused(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "overlap");
        Path huge = folder.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
        assertRefused(huge, "header length");
        Path tiny = folder.resolve("tiny.safetensors");
        Files.write(tiny, new byte[3]);
        assertRefused(tiny, "too short");
    }

    private static void assertRefused(Path file, String fragment) {
        FileFormatException failure = assertThrows(FileFormatException.class, () -> SafeTensors.open(file).close());
        assertTrue(failure.getMessage().startsWith(file.toString()), failure.getMessage());
        assertTrue(failure.getMessage().contains(fragment), failure.getMessage());
    }
}
