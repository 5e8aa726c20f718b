package dev.isthmus.data;

import dev.isthmus.io.FileFormatException;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxFilesTest {
    @TempDir
    Path folder;

    private void assertReadsBack(Path images, Path labels) throws IOException {
        InMemoryDataset dataset = IdxFiles.read(images, labels, "tiny", 10);
        assertEquals(3, dataset.size());
        assertEquals(Shape.of(1, 2, 3), dataset.sampleShape());
        assertEquals(10, dataset.classes());
        assertEquals(7, dataset.label(0));
        assertEquals(0, dataset.label(1));
        assertEquals(9, dataset.label(2));
        byte[] pixels = TestFiles.imagePixels(3, 2, 3);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, 8);
            for (int image = 0; image < 3; image++) {
                dataset.read(image, sample, 1);
                for (int i = 0; i < 6; i++) {
                    assertEquals((pixels[image * 6 + i] & 0xFF) / 255f,
                            sample.getAtIndex(ValueLayout.JAVA_FLOAT, 1 + i), "image " + image + " pixel " + i);
                }
            }
        }
    }

    @Test
    void readsRawFiles() throws IOException {
        assertReadsBack(TestFiles.write(folder.resolve("images"), TestFiles.imagesFile(3, 2, 3)),
                TestFiles.write(folder.resolve("labels"), TestFiles.labelsFile((byte) 7, (byte) 0, (byte) 9)));
    }

    @Test
    void detectsGzipByContentNotName() throws IOException {
        // Gzipped content without .gz, and raw content with .gz: the magic bytes decide.
        assertReadsBack(TestFiles.write(folder.resolve("images"), TestFiles.gzip(TestFiles.imagesFile(3, 2, 3))),
                TestFiles.write(folder.resolve("labels.gz"), TestFiles.labelsFile((byte) 7, (byte) 0, (byte) 9)));
    }

    private FileFormatException refused(byte[] images, byte[] labels) {
        Path imagesFile = TestFiles.write(folder.resolve("images-idx3-ubyte"), images);
        Path labelsFile = TestFiles.write(folder.resolve("labels-idx1-ubyte"), labels);
        return assertThrows(FileFormatException.class, () -> IdxFiles.read(imagesFile, labelsFile, "bad", 10));
    }

    private static void assertNames(FileFormatException problem, String fileName, long offset, String text) {
        assertEquals(fileName, problem.file().getFileName().toString(), problem.getMessage());
        assertEquals(offset, problem.offset(), problem.getMessage());
        assertTrue(problem.getMessage().contains(fileName) && problem.getMessage().contains("at byte " + offset),
                problem.getMessage());
        assertTrue(problem.getMessage().contains(text), problem.getMessage());
    }

    private static final byte[] GOOD_LABELS = TestFiles.labelsFile((byte) 1, (byte) 2, (byte) 3);

    @Test
    void refusesWrongMagic() {
        // Labels and images swapped: the message says what the file looks like.
        FileFormatException swapped = refused(GOOD_LABELS, TestFiles.imagesFile(3, 2, 3));
        assertNames(swapped, "images-idx3-ubyte", 0, "an IDX labels file");
        FileFormatException text = refused("P5 portable graymap".getBytes(), GOOD_LABELS);
        assertNames(text, "images-idx3-ubyte", 0, "not IDX");
        FileFormatException labels = refused(TestFiles.imagesFile(3, 2, 3), TestFiles.imagesFile(3, 2, 3));
        assertNames(labels, "labels-idx1-ubyte", 0, "expected 0x00000801");
    }

    @Test
    void refusesTruncatedHeaderAndData() {
        byte[] images = TestFiles.imagesFile(3, 2, 3);
        assertNames(refused(Arrays.copyOf(images, 10), GOOD_LABELS), "images-idx3-ubyte", 10, "rows");
        assertNames(refused(Arrays.copyOf(images, images.length - 4), GOOD_LABELS), "images-idx3-ubyte",
                images.length - 4, "file ends after 14 of the 18 data bytes");
        assertNames(refused(images, Arrays.copyOf(GOOD_LABELS, GOOD_LABELS.length - 1)), "labels-idx1-ubyte",
                GOOD_LABELS.length - 1, "file ends after 2 of the 3");
        assertNames(refused(new byte[0], GOOD_LABELS), "images-idx3-ubyte", 0, "magic number");
    }

    @Test
    void truncatedGzipNamesTheDecompressedOffset() {
        byte[] images = TestFiles.imagesFile(3, 2, 3);
        // Whole gzip stream of truncated content: data ends 4 bytes early.
        FileFormatException shortContent = refused(TestFiles.gzip(Arrays.copyOf(images, images.length - 4)), GOOD_LABELS);
        assertNames(shortContent, "images-idx3-ubyte", images.length - 4, "decompressed");
        // The compressed stream itself cut off: inflating fails.
        byte[] compressed = TestFiles.gzip(TestFiles.imagesFile(200, 28, 28));
        FileFormatException cut = refused(Arrays.copyOf(compressed, compressed.length / 2), GOOD_LABELS);
        assertTrue(cut.getMessage().contains("decompressed gzip stream"), cut.getMessage());
        assertTrue(cut.offset() > 16 && cut.offset() < 16 + 200 * 784, cut.getMessage());
        // Gzip magic, then garbage.
        FileFormatException garbage = refused(new byte[] {0x1f, (byte) 0x8b, 1, 2, 3}, GOOD_LABELS);
        assertNames(garbage, "images-idx3-ubyte", 0, "gzip");
    }

    @Test
    void refusesCountMismatchAndBadLabels() {
        byte[] images = TestFiles.imagesFile(3, 2, 3);
        assertNames(refused(images, TestFiles.labelsFile((byte) 1, (byte) 2)), "labels-idx1-ubyte", 4,
                "declares 2 labels, but");
        assertNames(refused(images, TestFiles.labelsFile((byte) 1, (byte) 10, (byte) 3)), "labels-idx1-ubyte", 9,
                "label 10 of sample 1 is not below the class count 10");
        assertNames(refused(images, TestFiles.gzip(TestFiles.labelsFile((byte) 1, (byte) 2, (byte) 255))),
                "labels-idx1-ubyte", 10, "label 255 of sample 2");
    }

    @Test
    void refusesTrailingData() {
        byte[] images = TestFiles.imagesFile(3, 2, 3);
        byte[] longer = Arrays.copyOf(images, images.length + 5);
        assertNames(refused(longer, GOOD_LABELS), "images-idx3-ubyte", images.length, "trailing data");
        assertNames(refused(TestFiles.gzip(longer), GOOD_LABELS), "images-idx3-ubyte", images.length, "trailing data");
        assertNames(refused(images, Arrays.copyOf(GOOD_LABELS, GOOD_LABELS.length + 1)), "labels-idx1-ubyte",
                GOOD_LABELS.length, "trailing data");
    }

    @Test
    void refusesEmptyImages() {
        assertNames(refused(TestFiles.idx(IdxFiles.IMAGES_MAGIC, new int[] {3, 0, 3}, new byte[0]), GOOD_LABELS),
                "images-idx3-ubyte", 8, "empty");
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** Header claims that would need gigabytes fail without allocating them. */
    @Test
    void hugeHeadersFailFastWithoutAllocating() {
        long before = allocatedBytes();
        // 2^31 images: not a signed 32-bit count.
        byte[] twoToThe31 = TestFiles.idx(IdxFiles.IMAGES_MAGIC, new int[] {Integer.MIN_VALUE, 28, 28}, new byte[16]);
        assertNames(refused(twoToThe31, GOOD_LABELS), "images-idx3-ubyte", 4, "2147483648 exceeds 2147483647");
        assertNames(refused(TestFiles.gzip(twoToThe31), GOOD_LABELS), "images-idx3-ubyte", 4, "decompressed");
        // Dimensions that each fit but whose product does not fit one array, or overflows an int.
        byte[] tooMany = TestFiles.idx(IdxFiles.IMAGES_MAGIC, new int[] {Integer.MAX_VALUE, 65536, 65536}, new byte[0]);
        assertNames(refused(tooMany, GOOD_LABELS), "images-idx3-ubyte", 4, "exceed");
        byte[] oneHugeImage = TestFiles.idx(IdxFiles.IMAGES_MAGIC, new int[] {0, 65536, 65536}, new byte[0]);
        assertNames(refused(oneHugeImage, GOOD_LABELS), "images-idx3-ubyte", 4, "exceed");
        // 2,000,000 images of 28x28 (1.5 GB) fits an array, but the files hold 16 bytes of data.
        byte[] lying = TestFiles.idx(IdxFiles.IMAGES_MAGIC, new int[] {2_000_000, 28, 28}, new byte[16]);
        assertNames(refused(lying, GOOD_LABELS), "images-idx3-ubyte", 32, "file ends after 16 of the 1568000000");
        assertNames(refused(TestFiles.gzip(lying), GOOD_LABELS), "images-idx3-ubyte", 32, "data ends after 16");
        long allocated = allocatedBytes() - before;
        assertTrue(allocated < 64L << 20, "reading lying headers allocated " + allocated + " bytes");
    }
}
