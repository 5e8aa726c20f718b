package dev.isthmus.data;

import dev.isthmus.random.CounterRng;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Folders of images, one sub-folder per class, as torchvision's {@code ImageFolder} reads them:
 * either {@code DIR/train/CLASS/...} and {@code DIR/test/CLASS/...}, or {@code DIR/CLASS/...} with
 * a hold-out fraction for testing. Class names are the class folders' names in sorted order and a
 * label is a name's position, as in torchvision. Images are the files ending in .png, .jpg or
 * .jpeg (any case) anywhere below a class folder, in sorted order; other files, and files and
 * folders whose names start with a dot (.DS_Store, ._photo.jpg, .ipynb_checkpoints), are ignored.
 *
 * <p>Opening lists the files and reads each one's header (not its pixels), so a file that is not an
 * image ImageIO can decode is found at once: it is skipped with one warning naming it, or, in
 * strict mode, refused. A class folder without images, or a folder without class folders, is an
 * error naming the folder.
 */
public final class ImageFolders {
    /** The file name endings read as images (lower case; matched in any case). */
    public static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");
    private static final Comparator<String> CODE_POINT_ORDER = ImageFolders::compareCodePoints;

    private ImageFolders() {
    }

    /**
     * How a folder is split and how its unreadable files are treated.
     *
     * @param holdOut     for a folder of class folders (no train/ and test/): the fraction of each
     *                    class's images held out for testing, in (0, 1); 0 with train/ and test/
     * @param holdOutSeed which images are held out: a pure function of this seed and the files'
     *                    names, so every run (and every command) holds out the same ones
     * @param strict      an unreadable image is an error instead of being skipped
     * @param warnings    where the one-line warnings about skipped images go; must be thread-safe
     *                    (samples are decoded on the loader's prefetch thread)
     */
    public record Options(double holdOut, long holdOutSeed, boolean strict, Consumer<String> warnings) {
        /** Validates the options. */
        public Options {
            if (!(holdOut >= 0 && holdOut < 1)) {
                throw new IllegalArgumentException("ImageFolders: the hold-out fraction must be in [0, 1), got " + holdOut);
            }
            if (warnings == null) {
                throw new IllegalArgumentException("ImageFolders: a warning sink is required");
            }
        }
    }

    /**
     * Width × height of an image as its header states it.
     *
     * @param width the width in pixels
     * @param height the height in pixels
     */
    public record ImageSize(int width, int height) {
        @Override
        public String toString() {
            return width + "x" + height;
        }
    }

    /**
     * One split of a folder: images per class (in class order) and how many there are of each size.
     *
     * @param name the split's name ("train", "test")
     * @param counts the images per class, in class order
     * @param sizes how many images there are of each size
     */
    public record SplitInventory(String name, List<Integer> counts, Map<ImageSize, Integer> sizes) {
        /** {@return the images in all splits} */
        public int total() {
            return counts.stream().mapToInt(Integer::intValue).sum();
        }
    }

    /**
     * What a folder holds: its classes, each split's images per class and sizes, and the files that
     * could not be read. Splits are train and test, or all when a folder of class folders is not split.
     *
     * @param directory the folder
     * @param classNames the class names, index = label
     * @param splits the splits, in order
     * @param unreadable the files that could not be read
     */
    public record Inventory(Path directory, List<String> classNames, List<SplitInventory> splits,
                            List<UnreadableImageException> unreadable) {
    }

    /**
     * The training and test datasets of {@code directory}, samples shaped by {@code transform}.
     *
     * @param directory the folder
     * @param transform how an image becomes a sample
     * @param options the options
     * @return the training and test datasets of {@code directory}, samples shaped by {@code transform}
     * @throws DatasetNotFoundException  when the folder is missing or has no class folders
     * @throws IllegalArgumentException  when a class folder has no (readable) images, the train and
     *                                   test classes differ, or the hold-out does not fit the layout
     * @throws UnreadableImageException  in strict mode, for the first image whose header cannot be read
     */
    public static Datasets.Split open(Path directory, ImageTransform transform, Options options) throws IOException {
        if (transform == null || options == null) {
            throw new IllegalArgumentException("ImageFolders.open: transform and options are required");
        }
        List<Scanned> splits = scan(directory, options.holdOut(), options.holdOutSeed(), true);
        List<UnreadableImageException> unreadable = new ArrayList<>();
        for (Scanned split : splits) {
            unreadable.addAll(split.unreadable());
        }
        if (options.strict() && !unreadable.isEmpty()) {
            UnreadableImageException first = unreadable.getFirst();
            throw new UnreadableImageException(first.file(), first.reason() + " (--strict stops at the first unreadable image)",
                    first);
        }
        for (UnreadableImageException skipped : unreadable) {
            options.warnings().accept("skipping unreadable image " + skipped.getMessage());
        }
        List<String> classNames = splits.getFirst().classNames();
        String name = "image folder " + directory.getFileName();
        return new Datasets.Split(dataset(name + " train", splits.get(0), classNames, transform, options),
                dataset(name + " test", splits.get(1), classNames, transform, options));
    }

    /**
     * Lists {@code directory} and reads every image's header, without decoding pixels. With a
     * hold-out fraction above 0 a folder of class folders is split as {@link #open} splits it.
     *
     * @param directory the folder
     * @param holdOut the fraction of samples held out for testing
     * @param holdOutSeed the seed that chooses the held-out samples
     * @return what the folder holds
     * @throws IOException when reading or writing the file fails
     */
    public static Inventory inventory(Path directory, double holdOut, long holdOutSeed) throws IOException {
        if (!(holdOut >= 0 && holdOut < 1)) {
            throw new IllegalArgumentException("ImageFolders: the hold-out fraction must be in [0, 1), got " + holdOut);
        }
        List<Scanned> splits = scan(directory, holdOut, holdOutSeed, false);
        List<SplitInventory> inventories = new ArrayList<>();
        List<UnreadableImageException> unreadable = new ArrayList<>();
        for (Scanned split : splits) {
            List<Integer> counts = new ArrayList<>();
            Map<ImageSize, Integer> sizes = new LinkedHashMap<>();
            for (ScannedClass scannedClass : split.classes()) {
                counts.add(scannedClass.images().size());
                for (Image image : scannedClass.images()) {
                    sizes.merge(image.size(), 1, Integer::sum);
                }
            }
            inventories.add(new SplitInventory(split.name(), List.copyOf(counts), Map.copyOf(sizes)));
            unreadable.addAll(split.unreadable());
        }
        return new Inventory(directory, splits.getFirst().classNames(), List.copyOf(inventories), List.copyOf(unreadable));
    }

    private static ImageFolder dataset(String name, Scanned split, List<String> classNames, ImageTransform transform,
                                       Options options) {
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int label = 0; label < split.classes().size(); label++) {
            for (Image image : split.classes().get(label).images()) {
                files.add(image.file());
                labels.add(label);
            }
        }
        return new ImageFolder(name, files, labels.stream().mapToInt(Integer::intValue).toArray(), classNames, transform,
                options.strict(), options.warnings());
    }

    /** A readable image and its size. */
    private record Image(Path file, ImageSize size) {
    }

    private record ScannedClass(String name, Path folder, List<Image> images) {
    }

    private record Scanned(String name, List<ScannedClass> classes, List<UnreadableImageException> unreadable) {
        List<String> classNames() {
            return classes.stream().map(ScannedClass::name).toList();
        }
    }

    /**
     * The splits of {@code directory}: train and test, or (a folder of class folders without a
     * hold-out, allowed only when {@code requireTest} is false) one split named all.
     */
    private static List<Scanned> scan(Path directory, double holdOut, long seed, boolean requireTest) throws IOException {
        if (directory == null) {
            throw new DatasetNotFoundException("an image folder needs --data-dir DIR (DIR/train/CLASS/*.png and "
                    + "DIR/test/CLASS/*.png, or DIR/CLASS/*.png with --split F)");
        }
        if (!Files.isDirectory(directory)) {
            throw new DatasetNotFoundException("image folder " + directory + " not found (no such folder)");
        }
        Path train = directory.resolve("train");
        Path test = directory.resolve("test");
        boolean hasTrain = Files.isDirectory(train);
        boolean hasTest = Files.isDirectory(test);
        if (hasTrain != hasTest) {
            throw new IllegalArgumentException("image folder " + directory + " has " + (hasTrain ? train : test)
                    + " but no " + (hasTrain ? test : train) + ": make both (each with one folder per class), or put the "
                    + "class folders directly in " + directory + " and hold out a fraction with --split");
        }
        if (hasTrain) {
            if (holdOut > 0) {
                throw new IllegalArgumentException("image folder " + directory + " has train/ and test/ folders; "
                        + "--split holds out a fraction only of a folder of class folders (DIR/CLASS/...)");
            }
            Scanned trainSplit = scanSplit("train", train);
            Scanned testSplit = scanSplit("test", test);
            if (!trainSplit.classNames().equals(testSplit.classNames())) {
                Set<String> onlyTrain = new TreeSet<>(trainSplit.classNames());
                testSplit.classNames().forEach(onlyTrain::remove);
                Set<String> onlyTest = new TreeSet<>(testSplit.classNames());
                trainSplit.classNames().forEach(onlyTest::remove);
                throw new IllegalArgumentException("image folder " + directory + ": train/ and test/ must have the same "
                        + "class folders (labels are positions in the sorted names); only in train/: " + onlyTrain
                        + ", only in test/: " + onlyTest);
            }
            return List.of(trainSplit, testSplit);
        }
        Scanned all = scanSplit("all", directory);
        if (holdOut == 0) {
            if (requireTest) {
                throw new IllegalArgumentException("image folder " + directory + " has class folders but no train/ and "
                        + "test/ folders: pass --split F to hold out a fraction F of each class for testing");
            }
            return List.of(all);
        }
        return holdOut(all, holdOut, seed, directory);
    }

    private static Scanned scanSplit(String name, Path folder) throws IOException {
        List<Path> classFolders;
        try (Stream<Path> entries = Files.list(folder)) {
            classFolders = entries.filter(Files::isDirectory).filter(path -> !hidden(path))
                    .sorted(Comparator.comparing(path -> path.getFileName().toString(), CODE_POINT_ORDER)).toList();
        }
        if (classFolders.isEmpty()) {
            long loose;
            try (Stream<Path> entries = Files.list(folder)) {
                loose = entries.filter(ImageFolders::isImageFile).count();
            }
            throw new DatasetNotFoundException("image folder " + folder + " has no class folders (expected "
                    + folder.resolve("CLASS").resolve("IMAGE.png") + ", one folder per class)"
                    + (loose > 0 ? "; it holds " + loose + " images directly: move them into one folder per class" : ""));
        }
        List<ScannedClass> classes = new ArrayList<>();
        List<UnreadableImageException> unreadable = new ArrayList<>();
        for (Path classFolder : classFolders) {
            List<Path> files = imageFiles(classFolder);
            if (files.isEmpty()) {
                throw new IllegalArgumentException("class folder " + classFolder + " has no images (" + extensionList()
                        + "); remove it or add images");
            }
            Object[] headers = readHeaders(files);
            List<Image> images = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                if (headers[i] instanceof ImageDecoding.Header header) {
                    images.add(new Image(files.get(i), new ImageSize(header.width(), header.height())));
                } else {
                    unreadable.add((UnreadableImageException) headers[i]);
                }
            }
            if (images.isEmpty()) {
                throw new IllegalArgumentException("class folder " + classFolder + " has no readable images: all "
                        + files.size() + " are unreadable (first: " + ((UnreadableImageException) headers[0]).getMessage() + ")");
            }
            classes.add(new ScannedClass(classFolder.getFileName().toString(), classFolder, List.copyOf(images)));
        }
        return new Scanned(name, List.copyOf(classes), List.copyOf(unreadable));
    }

    /** Each file's header, or the exception saying why it cannot be read; in parallel, results in file order. */
    private static Object[] readHeaders(List<Path> files) {
        return IntStream.range(0, files.size()).parallel().mapToObj(i -> {
            try {
                return (Object) ImageDecoding.header(files.get(i));
            } catch (UnreadableImageException unreadable) {
                return unreadable;
            }
        }).toArray();
    }

    /**
     * The images below {@code classFolder} (following links) as a class folder's are found: .png,
     * .jpg and .jpeg files not hidden (no name on the way starting with a dot), sorted by their path
     * relative to the folder.
     *
     * @param classFolder the folder of one class
     * @return the images below {@code classFolder} (following links) as a class folder's are found: .png, .jpg and .jpeg files not hidden (no name on the way starting with a dot), sorted by their path relative to the folder
     * @throws IOException when reading or writing the file fails
     */
    public static List<Path> imageFiles(Path classFolder) throws IOException {
        try (Stream<Path> walk = Files.walk(classFolder, FileVisitOption.FOLLOW_LINKS)) {
            return walk.filter(ImageFolders::isImageFile)
                    .filter(path -> !hiddenBelow(classFolder, path))
                    .sorted(Comparator.comparing(path -> classFolder.relativize(path).toString(), CODE_POINT_ORDER))
                    .toList();
        } catch (UncheckedIOException walkFailed) {
            throw new IOException("cannot list " + classFolder + ": " + walkFailed.getCause().getMessage(), walkFailed.getCause());
        }
    }

    private static boolean isImageFile(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".") && EXTENSIONS.stream().anyMatch(name::endsWith) && Files.isRegularFile(path);
    }

    private static boolean hidden(Path path) {
        return path.getFileName().toString().startsWith(".");
    }

    private static boolean hiddenBelow(Path folder, Path file) {
        for (Path part : folder.relativize(file)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String extensionList() {
        return String.join(", ", EXTENSIONS);
    }

    /**
     * Splits every class of {@code all}: the round(fraction · n) images (at most n − 1) that come
     * first when ordered by a hash of (seed, path within the class folder) go to test, the rest to
     * train, each in file order. A hash of the name rather than a shuffle of positions keeps an
     * image on its side when other images are added or removed.
     */
    private static List<Scanned> holdOut(Scanned all, double fraction, long seed, Path directory) {
        List<ScannedClass> train = new ArrayList<>();
        List<ScannedClass> test = new ArrayList<>();
        for (ScannedClass scannedClass : all.classes()) {
            List<Image> images = scannedClass.images();
            int held = (int) Math.min(Math.round(fraction * images.size()), images.size() - 1L);
            List<Image> ranked = new ArrayList<>(images);
            ranked.sort(Comparator.comparingLong((Image image) -> holdOutKey(seed, scannedClass.folder(), image.file()))
                    .thenComparing(image -> image.file().toString(), CODE_POINT_ORDER));
            Set<Path> heldOut = new java.util.HashSet<>();
            for (int i = 0; i < held; i++) {
                heldOut.add(ranked.get(i).file());
            }
            train.add(new ScannedClass(scannedClass.name(), scannedClass.folder(),
                    images.stream().filter(image -> !heldOut.contains(image.file())).toList()));
            test.add(new ScannedClass(scannedClass.name(), scannedClass.folder(),
                    images.stream().filter(image -> heldOut.contains(image.file())).toList()));
        }
        int tested = test.stream().mapToInt(scannedClass -> scannedClass.images().size()).sum();
        if (tested == 0) {
            throw new IllegalArgumentException("image folder " + directory + ": --split " + fraction + " holds out no "
                    + "image (each class keeps at least one for training and rounds its share); use a larger fraction "
                    + "or more images");
        }
        // Test classes may be empty here; the loader only needs a non-empty test set.
        return List.of(new Scanned("train", List.copyOf(train), all.unreadable()),
                new Scanned("test", List.copyOf(test), List.of()));
    }

    /** FNV-1a of the path within its class folder (UTF-8), mixed with the seed. */
    private static long holdOutKey(long seed, Path classFolder, Path file) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : classFolder.relativize(file).toString().getBytes(StandardCharsets.UTF_8)) {
            hash = (hash ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return CounterRng.mix(seed, hash, 0);
    }

    /** Python's str ordering: by Unicode code point (String.compareTo orders UTF-16 units). */
    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int x = a.codePointAt(i);
            int y = b.codePointAt(j);
            if (x != y) {
                return Integer.compare(x, y);
            }
            i += Character.charCount(x);
            j += Character.charCount(y);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
