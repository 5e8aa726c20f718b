package dev.isthmus.cli;

import dev.isthmus.data.ImageFolders;
import dev.isthmus.data.UnreadableImageException;
import dev.isthmus.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code isthmus data inspect DIR}: an image folder's classes, images per split and class, and image sizes. */
@Command(name = "inspect", sortOptions = false,
        header = "the classes, images per split and class, and image sizes of an image folder",
        description = {"DIR is laid out as for train --data folder: DIR/train/CLASS/... and DIR/test/CLASS/..., or "
                + "DIR/CLASS/... (one split, all, or train and test with --split). Only the images' headers are read.",
                "With --json the last line is {directory, classes, splits: {NAME: {total, per_class: {CLASS: n}}}, "
                        + "sizes: {smallest, largest, most_common, distinct, counts: {WxH: n}}, unreadable: [{file, reason}]}."})
final class DataInspectCommand implements Subcommand {
    @Spec
    private CommandSpec command;

    @Parameters(paramLabel = "DIR", description = "the image folder")
    Path directory;

    double split;

    @Option(names = "--split", paramLabel = "F", defaultValue = "0", order = 1,
            description = "for a folder of class folders: show the train/test split that --split F gives training")
    void split(double value) {
        split = Bounds.check(command, "--split", value, 0, 0.99);
    }

    @Mixin
    StandardOptions standard;

    /** Smallest and largest by pixel count, then width; most common by count, then the smaller size. */
    private static final Comparator<ImageFolders.ImageSize> BY_AREA = Comparator
            .comparingLong((ImageFolders.ImageSize size) -> (long) size.width() * size.height())
            .thenComparingInt(ImageFolders.ImageSize::width);

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        ImageFolders.Inventory inventory = ImageFolders.inventory(directory, split, DataOptions.HOLD_OUT_SEED);
        List<String> classes = inventory.classNames();
        List<ImageFolders.SplitInventory> splits = inventory.splits();
        out.printf("image folder %s: %d classes%n", directory, classes.size());
        int nameWidth = Math.max(5, classes.stream().mapToInt(String::length).max().orElse(0));
        StringBuilder header = new StringBuilder(String.format("  %-" + nameWidth + "s", "class"));
        splits.forEach(s -> header.append(String.format(" %8s", s.name())));
        out.println(header);
        for (int c = 0; c < classes.size(); c++) {
            StringBuilder row = new StringBuilder(String.format("  %-" + nameWidth + "s", classes.get(c)));
            for (ImageFolders.SplitInventory s : splits) {
                row.append(String.format(" %,8d", s.counts().get(c)));
            }
            out.println(row);
        }
        StringBuilder total = new StringBuilder(String.format("  %-" + nameWidth + "s", "total"));
        splits.forEach(s -> total.append(String.format(" %,8d", s.total())));
        out.println(total);

        Map<ImageFolders.ImageSize, Integer> sizes = new LinkedHashMap<>();
        for (ImageFolders.SplitInventory s : splits) {
            s.sizes().forEach((size, count) -> sizes.merge(size, count, Integer::sum));
        }
        ImageFolders.ImageSize smallest = sizes.keySet().stream().min(BY_AREA).orElseThrow();
        ImageFolders.ImageSize largest = sizes.keySet().stream().max(BY_AREA).orElseThrow();
        ImageFolders.ImageSize mostCommon = sizes.entrySet().stream()
                .min(Comparator.comparing((Map.Entry<ImageFolders.ImageSize, Integer> e) -> -e.getValue())
                        .thenComparing(Map.Entry::getKey, BY_AREA))
                .orElseThrow().getKey();
        out.printf("sizes (width x height): smallest %s, largest %s, most common %s (%,d images), %d distinct%n",
                smallest, largest, mostCommon, sizes.get(mostCommon), sizes.size());
        List<UnreadableImageException> unreadable = inventory.unreadable();
        if (!unreadable.isEmpty()) {
            out.printf("unreadable: %d images (skipped by train and eval, or refused with --strict)%n", unreadable.size());
            unreadable.forEach(problem -> out.println("  " + problem.getMessage()));
        }
        if (standard.json) {
            out.println(Json.write(json(inventory, sizes, smallest, largest, mostCommon)));
        }
        return 0;
    }

    private static Map<String, Object> json(ImageFolders.Inventory inventory, Map<ImageFolders.ImageSize, Integer> sizes,
                                            ImageFolders.ImageSize smallest, ImageFolders.ImageSize largest,
                                            ImageFolders.ImageSize mostCommon) {
        Map<String, Object> splits = new LinkedHashMap<>();
        for (ImageFolders.SplitInventory s : inventory.splits()) {
            Map<String, Object> perClass = new LinkedHashMap<>();
            for (int c = 0; c < inventory.classNames().size(); c++) {
                perClass.put(inventory.classNames().get(c), s.counts().get(c));
            }
            Map<String, Object> split = new LinkedHashMap<>();
            split.put("total", s.total());
            split.put("per_class", perClass);
            splits.put(s.name(), split);
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        sizes.entrySet().stream().sorted(Map.Entry.comparingByKey(BY_AREA))
                .forEach(e -> counts.put(e.getKey().toString(), e.getValue()));
        Map<String, Object> sizeFacts = new LinkedHashMap<>();
        sizeFacts.put("smallest", smallest.toString());
        sizeFacts.put("largest", largest.toString());
        sizeFacts.put("most_common", mostCommon.toString());
        sizeFacts.put("distinct", sizes.size());
        sizeFacts.put("counts", counts);
        List<Object> unreadable = new ArrayList<>();
        for (UnreadableImageException problem : inventory.unreadable()) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("file", problem.file().toString());
            item.put("reason", problem.reason());
            unreadable.add(item);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("directory", inventory.directory().toString());
        json.put("classes", inventory.classNames());
        json.put("splits", splits);
        json.put("sizes", sizeFacts);
        json.put("unreadable", unreadable);
        return json;
    }
}
