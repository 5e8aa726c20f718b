package dev.isthmus.data;

import dev.isthmus.tensor.Shape;

import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Labelled image files read lazily: only the file list and the labels are in memory, and each
 * {@link #read} decodes its file through the {@link ImageTransform}, on the thread that calls it
 * (the {@link DataLoader}'s prefetch thread while training), so a folder of any size streams from
 * disk with memory bounded by one decoded image. Made by {@link ImageFolders#open}.
 *
 * <p><b>Unreadable files.</b> {@link ImageFolders#open} already dropped the files whose header
 * could not be read. A file that fails later, while its pixels are decoded (a truncated PNG, a
 * corrupt JPEG), is reported once through the warning sink and replaced, in this and every later
 * epoch, by the next readable file of the same class in this dataset's order (wrapping around), so
 * the size, the labels and every batch stay a pure function of the files. In strict mode the first
 * such file stops with an error naming it instead.
 *
 * <p>Thread-safe: the substitutions are kept in concurrent maps, and a substitution is the same
 * whichever thread finds it first.
 */
public final class ImageFolder implements Dataset {
    private final String name;
    private final Path[] files;
    private final int[] labels;
    private final List<String> classNames;
    private final ImageTransform transform;
    private final boolean strict;
    private final Consumer<String> warnings;
    /** Sample index → the index read in its place; shared by the views of one folder. */
    private final Map<Integer, Integer> substitutes;
    private final Set<Path> reported;

    ImageFolder(String name, List<Path> files, int[] labels, List<String> classNames, ImageTransform transform,
                boolean strict, Consumer<String> warnings) {
        this(name, files.toArray(Path[]::new), labels, List.copyOf(classNames), transform, strict, warnings,
                new ConcurrentHashMap<>(), ConcurrentHashMap.newKeySet());
    }

    private ImageFolder(String name, Path[] files, int[] labels, List<String> classNames, ImageTransform transform,
                        boolean strict, Consumer<String> warnings, Map<Integer, Integer> substitutes, Set<Path> reported) {
        if (files.length != labels.length) {
            throw new IllegalArgumentException(name + ": " + files.length + " files but " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of " + files[i] + " is outside [0, "
                        + classNames.size() + ")");
            }
        }
        this.name = name;
        this.files = files;
        this.labels = labels;
        this.classNames = classNames;
        this.transform = transform;
        this.strict = strict;
        this.warnings = warnings;
        this.substitutes = substitutes;
        this.reported = reported;
    }

    /**
     * The class names, index = label: the class folders' names in sorted order.
     *
     * @return the class names, index = label: the class folders' names in sorted order
     */
    public List<String> classNames() {
        return classNames;
    }

    /** {@return how each image becomes a sample} */
    public ImageTransform transform() {
        return transform;
    }

    /**
     * The file of sample {@code index}.
     *
     * @param index the sample
     * @return the file of sample {@code index}
     */
    public Path file(int index) {
        SampleChecks.index(this, index);
        return files[index];
    }

    /**
     * {@code count} samples spread evenly over this dataset ({@code index · size / count}), so a
     * subset of a folder sorted by class still holds every class in proportion. A new dataset
     * over the same files: substitutions found by one are not known to the other.
     *
     * @param count how many to pick
     * @return the samples' indices
     */
    public ImageFolder evenlySpaced(int count) {
        if (count < 1 || count > files.length) {
            throw new IllegalArgumentException(describe() + ": a subset of " + count + " samples must have between 1 and "
                    + files.length);
        }
        Path[] chosen = new Path[count];
        int[] chosenLabels = new int[count];
        for (int i = 0; i < count; i++) {
            int index = (int) ((long) i * files.length / count);
            chosen[i] = files[index];
            chosenLabels[i] = labels[index];
        }
        return new ImageFolder(name, chosen, chosenLabels, classNames, transform, strict, warnings,
                new ConcurrentHashMap<>(), reported);
    }

    @Override
    public int size() {
        return files.length;
    }

    @Override
    public Shape sampleShape() {
        return transform.sampleShape();
    }

    @Override
    public int classes() {
        return classNames.size();
    }

    @Override
    public int label(int index) {
        SampleChecks.index(this, index);
        return labels[index];
    }

    @Override
    public void read(int index, MemorySegment destination, long floatOffset) {
        SampleChecks.index(this, index);
        SampleChecks.destination(this, destination, floatOffset, (int) transform.sampleShape().elementCount());
        Integer known = substitutes.get(index);
        int candidate = known == null ? index : known;
        // Each failing candidate is recorded before the next is tried, so the walk ends after at
        // most one pass over the class.
        for (int tried = 0; tried < files.length; tried++) {
            try {
                transform.load(files[candidate], destination, floatOffset);
                if (candidate != index) {
                    substitutes.putIfAbsent(index, candidate);
                }
                return;
            } catch (UnreadableImageException unreadable) {
                if (strict) {
                    throw new UncheckedIOException("unreadable image " + unreadable.getMessage()
                            + " (--strict stops at the first one)", unreadable);
                }
                if (reported.add(files[candidate])) {
                    warnings.accept("skipping unreadable image " + unreadable.getMessage() + "; its samples are "
                            + "replaced by the next readable image of class " + classNames.get(labels[index]));
                }
                candidate = nextOfSameClass(candidate, index);
            }
        }
        throw new IllegalStateException(describe() + ": no image of class " + classNames.get(labels[index])
                + " can be decoded");
    }

    /** The next index after {@code from}, wrapping, with the label of {@code index}; fails after a full turn. */
    private int nextOfSameClass(int from, int index) {
        for (int step = 1; step <= files.length; step++) {
            int next = (from + step) % files.length;
            if (next == index) {
                break;
            }
            if (labels[next] == labels[index]) {
                return next;
            }
        }
        throw new IllegalStateException(describe() + ": no image of class " + classNames.get(labels[index])
                + " can be decoded");
    }

    @Override
    public String describe() {
        return name + ": " + files.length + " images as " + transform.sampleShape() + ", " + classNames.size() + " classes";
    }

    @Override
    public String toString() {
        return describe();
    }
}
