package dev.isthmus.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image folders: layout, class order, hold-out, unreadable files and errors naming the folder. */
class ImageFolderTest {
    private static final ImageTransform TWO_BY_TWO = ImageTransform.toSize(1, 2, 2);

    @TempDir
    Path root;

    private final List<String> warnings = new CopyOnWriteArrayList<>();

    private ImageFolders.Options options(double holdOut, boolean strict) {
        return new ImageFolders.Options(holdOut, 0, strict, warnings::add);
    }

    /** A 2x2 grey PNG whose pixels are all {@code value}. */
    private static Path png(Path file, int value) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        image.getRaster().setPixels(0, 0, 2, 2, new int[] {value, value, value, value});
        assertTrue(ImageIO.write(image, "png", file.toFile()));
        return file;
    }

    private static Path truncatedPng(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY);
        int[] noise = new int[64 * 64];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (i * 7919) % 256;
        }
        image.getRaster().setPixels(0, 0, 64, 64, noise);
        ImageIO.write(image, "png", file.toFile());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        return file;
    }

    private static float firstPixel(Dataset dataset, int index) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sample = arena.allocate(ValueLayout.JAVA_FLOAT, dataset.sampleShape().elementCount());
            dataset.read(index, sample, 0);
            return sample.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Test
    void classesAreTheSortedFolderNamesAndImagesAreFoundBelowThem() throws IOException {
        png(root.resolve("train/zebra/a.png"), 10);
        png(root.resolve("train/Apple/b.PNG"), 20);
        png(root.resolve("train/Apple/nested/c.png"), 30);
        png(root.resolve("train/apple/d.png"), 40);
        Files.writeString(root.resolve("train/apple/notes.txt"), "not an image");
        png(root.resolve("train/apple/.hidden.png"), 50);
        png(root.resolve("train/.ipynb_checkpoints/e.png"), 60);
        for (String name : List.of("zebra", "Apple", "apple")) {
            png(root.resolve("test").resolve(name).resolve("t.png"), 70);
        }
        Datasets.Split split = ImageFolders.open(root, TWO_BY_TWO, options(0, false));
        ImageFolder train = (ImageFolder) split.train();
        // Code-point order, as Python's sorted(): upper case before lower case.
        assertEquals(List.of("Apple", "apple", "zebra"), train.classNames());
        assertEquals(4, train.size());
        assertEquals(List.of(0, 0, 1, 2), List.of(train.label(0), train.label(1), train.label(2), train.label(3)));
        assertEquals(root.resolve("train/Apple/b.PNG"), train.file(0));
        assertEquals(root.resolve("train/Apple/nested/c.png"), train.file(1));
        assertEquals(20 / 255f, firstPixel(train, 0));
        assertEquals(40 / 255f, firstPixel(train, 2));
        assertEquals(3, split.test().size());
        assertEquals(List.of(), warnings);
    }

    @Test
    void aHoldOutTakesTheSameShareOfEveryClassOnEveryRun() throws IOException {
        for (int i = 0; i < 10; i++) {
            png(root.resolve("cats/cat" + i + ".png"), i);
            png(root.resolve("dogs/dog" + i + ".png"), 100 + i);
        }
        Datasets.Split split = ImageFolders.open(root, TWO_BY_TWO, options(0.2, false));
        assertEquals(16, split.train().size());
        assertEquals(4, split.test().size());
        ImageFolder test = (ImageFolder) split.test();
        assertEquals(List.of(0, 0, 1, 1), List.of(test.label(0), test.label(1), test.label(2), test.label(3)));
        Set<Path> all = new HashSet<>();
        for (Dataset dataset : List.of(split.train(), split.test())) {
            for (int i = 0; i < dataset.size(); i++) {
                assertTrue(all.add(((ImageFolder) dataset).file(i)), "a file on both sides");
            }
        }
        assertEquals(20, all.size());
        ImageFolder again = (ImageFolder) ImageFolders.open(root, TWO_BY_TWO, options(0.2, false)).test();
        for (int i = 0; i < 4; i++) {
            assertEquals(test.file(i), again.file(i));
        }
        // The choice hangs on names, not positions: with a new cat (still 2 of 11 held out) the held-out
        // cats are old held-out ones or the new one, and the dogs do not change.
        Path newCat = png(root.resolve("cats/cat10.png"), 10);
        ImageFolder grown = (ImageFolder) ImageFolders.open(root, TWO_BY_TWO, options(0.2, false)).test();
        assertEquals(4, grown.size());
        Set<Path> allowed = Set.of(test.file(0), test.file(1), newCat);
        assertTrue(allowed.contains(grown.file(0)) && allowed.contains(grown.file(1)), grown.file(0) + ", " + grown.file(1));
        assertEquals(List.of(test.file(2), test.file(3)), List.of(grown.file(2), grown.file(3)));
    }

    @Test
    void aFileWhoseHeaderCannotBeReadIsSkippedWithOneWarningOrRefusedWhenStrict() throws IOException {
        png(root.resolve("train/a/1.png"), 1);
        png(root.resolve("train/a/2.png"), 2);
        Path corrupt = root.resolve("train/a/3.png");
        Files.write(corrupt, new byte[] {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
        png(root.resolve("test/a/1.png"), 3);
        Datasets.Split split = ImageFolders.open(root, TWO_BY_TWO, options(0, false));
        assertEquals(2, split.train().size());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains(corrupt.toString()), warnings.getFirst());

        UnreadableImageException strict = assertThrows(UnreadableImageException.class,
                () -> ImageFolders.open(root, TWO_BY_TWO, options(0, true)));
        assertEquals(corrupt, strict.file());
        assertTrue(strict.getMessage().contains(corrupt.toString()), strict.getMessage());
    }

    @Test
    void aFileThatFailsWhileDecodingIsReplacedByTheNextOfItsClassWithOneWarning() throws IOException {
        png(root.resolve("train/a/1.png"), 11);
        Path truncated = truncatedPng(root.resolve("train/a/2.png"));
        png(root.resolve("train/a/3.png"), 33);
        png(root.resolve("train/b/1.png"), 44);
        png(root.resolve("test/a/1.png"), 1);
        png(root.resolve("test/b/1.png"), 2);
        ImageFolder train = (ImageFolder) ImageFolders.open(root, TWO_BY_TWO, options(0, false)).train();
        assertEquals(4, train.size()); // its header reads: it is found only when decoded
        assertEquals(List.of(), warnings);
        assertEquals(33 / 255f, firstPixel(train, 1));
        assertEquals(33 / 255f, firstPixel(train, 1)); // the same substitute every time, warned about once
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains(truncated.toString()), warnings.getFirst());

        // Through a prefetching loader, strict mode stops the epoch with the file's name.
        ImageFolder strict = (ImageFolder) ImageFolders.open(root, TWO_BY_TWO, options(0, true)).train();
        try (DataLoader loader = new DataLoader(strict, 4, false, false, 0, null, null, true)) {
            loader.startEpoch(0);
            DataLoadingException failed = assertThrows(DataLoadingException.class, loader::next);
            assertInstanceOf(UncheckedIOException.class, failed.getCause());
            assertTrue(failed.getMessage().contains(truncated.toString()), failed.getMessage());
        }
    }

    @Test
    void emptyFoldersAreRefusedNamingThem() throws IOException {
        png(root.resolve("train/a/1.png"), 1);
        Files.createDirectories(root.resolve("train/b"));
        Files.writeString(root.resolve("train/b/readme.txt"), "no images here");
        png(root.resolve("test/a/1.png"), 1);
        png(root.resolve("test/b/1.png"), 1);
        IllegalArgumentException emptyClass = assertThrows(IllegalArgumentException.class,
                () -> ImageFolders.open(root, TWO_BY_TWO, options(0, false)));
        assertTrue(emptyClass.getMessage().contains(root.resolve("train/b").toString()), emptyClass.getMessage());

        Path bare = Files.createDirectories(root.resolve("bare"));
        png(bare.resolve("loose.png"), 1);
        DatasetNotFoundException noClasses = assertThrows(DatasetNotFoundException.class,
                () -> ImageFolders.open(bare, TWO_BY_TWO, options(0.1, false)));
        assertTrue(noClasses.getMessage().contains(bare.toString()) && noClasses.getMessage().contains("1 images directly"),
                noClasses.getMessage());

        DatasetNotFoundException missing = assertThrows(DatasetNotFoundException.class,
                () -> ImageFolders.open(root.resolve("nowhere"), TWO_BY_TWO, options(0, false)));
        assertTrue(missing.getMessage().contains("nowhere"), missing.getMessage());
    }

    @Test
    void layoutMistakesAreExplained() throws IOException {
        png(root.resolve("train/a/1.png"), 1);
        png(root.resolve("test/b/1.png"), 1);
        IllegalArgumentException differ = assertThrows(IllegalArgumentException.class,
                () -> ImageFolders.open(root, TWO_BY_TWO, options(0, false)));
        assertTrue(differ.getMessage().contains("only in train/: [a]") && differ.getMessage().contains("only in test/: [b]"),
                differ.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageFolders.open(root, TWO_BY_TWO, options(0.1, false)));

        Path flat = root.resolve("flat");
        png(flat.resolve("a/1.png"), 1);
        IllegalArgumentException noSplit = assertThrows(IllegalArgumentException.class,
                () -> ImageFolders.open(flat, TWO_BY_TWO, options(0, false)));
        assertTrue(noSplit.getMessage().contains("--split"), noSplit.getMessage());
        // One image per class cannot be split: each class keeps its one image for training.
        assertThrows(IllegalArgumentException.class, () -> ImageFolders.open(flat, TWO_BY_TWO, options(0.5, false)));
    }

    /** Heap in use after a full collection. */
    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void aLargeFolderStreamsFromDiskInBoundedMemory() throws IOException {
        // 1,600 RGB images of 64x64: 19.7 MB as bytes, 78.6 MB as floats. Random pixels, so PNG cannot shrink them.
        int count = 1600;
        java.util.Random random = new java.util.Random(7);
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < count; i++) {
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    image.setRGB(x, y, random.nextInt(1 << 24));
                }
            }
            Path file = root.resolve(i % 2 == 0 ? "a" : "b").resolve(String.format("%04d.png", i));
            Files.createDirectories(file.getParent());
            assertTrue(ImageIO.write(image, "png", file.toFile()));
        }
        long before = heapAfterGc();
        Datasets.Split split = ImageFolders.open(root, ImageTransform.toSize(3, 64, 64), options(0.25, false));
        double sum = 0;
        try (DataLoader loader = new DataLoader(split.train(), 100, true, false, 0, null, null, true)) {
            loader.startEpoch(0);
            Batch batch;
            while ((batch = loader.next()) != null) {
                sum += batch.images().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
            }
        }
        long retained = heapAfterGc() - before;
        assertEquals(1200, split.train().size());
        assertTrue(sum > 0, "the batches were read");
        // What stays is the file list (a path and a label per image, ~0.2 MB here), not the pixels.
        assertTrue(retained < 4 << 20, "retained " + retained + " bytes of heap after an epoch over " + count + " images");
        assertEquals(400, split.test().size()); // the datasets are still reachable at the measurement
    }

    @Test
    void anInventoryCountsImagesPerClassAndSizeWithoutDecodingThem() throws IOException {
        png(root.resolve("a/1.png"), 1);
        png(root.resolve("a/2.png"), 1);
        BufferedImage wide = new BufferedImage(5, 3, BufferedImage.TYPE_INT_RGB);
        Files.createDirectories(root.resolve("b"));
        assertTrue(ImageIO.write(wide, "jpeg", root.resolve("b/wide.jpg").toFile()));
        Files.write(root.resolve("b/broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 0, 0});
        ImageFolders.Inventory inventory = ImageFolders.inventory(root, 0, 0);
        assertEquals(List.of("a", "b"), inventory.classNames());
        assertEquals(1, inventory.splits().size());
        ImageFolders.SplitInventory all = inventory.splits().getFirst();
        assertEquals("all", all.name());
        assertEquals(List.of(2, 1), all.counts());
        assertEquals(2, all.sizes().get(new ImageFolders.ImageSize(2, 2)));
        assertEquals(1, all.sizes().get(new ImageFolders.ImageSize(5, 3)));
        assertEquals(1, inventory.unreadable().size());
        assertEquals(root.resolve("b/broken.jpg"), inventory.unreadable().getFirst().file());
        assertFalse(ImageFolders.inventory(root, 0.5, 0).splits().getFirst().counts().contains(0));
        assertArrayEquals(new int[] {1, 1}, ImageFolders.inventory(root, 0.5, 0).splits().get(0).counts().stream()
                .mapToInt(Integer::intValue).toArray());
    }
}
