package dev.isthmus.data;

import dev.isthmus.io.FileFormatException;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Cifar10Test {
    @TempDir
    Path folder;

    @Test
    void readsRecordsAcrossFiles() throws IOException {
        Path first = TestFiles.write(folder.resolve("data_batch_1.bin"), TestFiles.cifarRecords(3, 7));
        Path second = TestFiles.write(folder.resolve("data_batch_2.bin"), TestFiles.cifarRecords(9));
        InMemoryDataset dataset = Cifar10.read(List.of(first, second));
        assertEquals(3, dataset.size());
        assertEquals(Shape.of(3, 32, 32), dataset.sampleShape());
        assertEquals(10, dataset.classes());
        assertEquals(3, dataset.label(0));
        assertEquals(7, dataset.label(1));
        assertEquals(9, dataset.label(2));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(ValueLayout.JAVA_FLOAT, 3072);
            dataset.read(1, image, 0);
            // Record 1, pixel i is (1 + i) mod 256; planes are R, G, B, each row-major 32x32.
            assertEquals(1 / 255f, image.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            int greenRow2Column5 = 1024 + 2 * 32 + 5;
            assertEquals(((1 + greenRow2Column5) & 0xFF) / 255f, image.getAtIndex(ValueLayout.JAVA_FLOAT, greenRow2Column5));
            assertEquals(((1 + 3071) & 0xFF) / 255f, image.getAtIndex(ValueLayout.JAVA_FLOAT, 3071));
            // The second file's first record: pixel i is i mod 256.
            dataset.read(2, image, 0);
            assertEquals(5 / 255f, image.getAtIndex(ValueLayout.JAVA_FLOAT, 5));
        }
    }

    @Test
    void refusesPartialRecordsNamingTheOffset() {
        byte[] records = TestFiles.cifarRecords(3, 7);
        Path truncated = TestFiles.write(folder.resolve("data_batch_1.bin"), Arrays.copyOf(records, 3073 + 100));
        FileFormatException problem = assertThrows(FileFormatException.class, () -> Cifar10.read(List.of(truncated)));
        assertEquals(truncated, problem.file());
        assertEquals(3073, problem.offset());
        assertTrue(problem.getMessage().contains("partial record of 100 bytes"), problem.getMessage());

        Path empty = TestFiles.write(folder.resolve("empty.bin"), new byte[0]);
        assertThrows(FileFormatException.class, () -> Cifar10.read(List.of(empty)));
    }

    @Test
    void refusesLabelsAboveNine() {
        Path file = TestFiles.write(folder.resolve("test_batch.bin"), TestFiles.cifarRecords(2, 10));
        FileFormatException problem = assertThrows(FileFormatException.class, () -> Cifar10.read(List.of(file)));
        assertEquals(3073, problem.offset());
        assertTrue(problem.getMessage().contains("label 10 of record 1"), problem.getMessage());
    }
}
