package dev.isthmus.cli;

import dev.isthmus.data.ImageFolders;
import dev.isthmus.data.ImageTransform;
import dev.isthmus.data.Normalization;
import dev.isthmus.data.UnreadableImageException;
import dev.isthmus.device.Device;
import dev.isthmus.device.Devices;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.InputMetadata;
import dev.isthmus.io.Json;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code isthmus predict MODEL --checkpoint FILE IMAGE|DIR...}: the top classes of each image. */
@Command(name = "predict", sortOptions = false,
        header = "classify images with a trained checkpoint: the top classes of each, with probabilities",
        description = {"Each image is prepared as in training, from the checkpoint's metadata (channels, size, resize, "
                + "crop, normalization; a checkpoint without it: grey or RGB as the model takes, resized to its size, "
                + "pixels in [0, 1]), and class names come from it too (indices when it has none). A folder is searched "
                + "for .png, .jpg and .jpeg files. The model runs in eval mode, --batch images at a time. An unreadable "
                + "image is skipped with a warning, or with --strict ends the command with exit status 1.",
                "With --json the last line is {model, checkpoint, predictions: [{file, top: [{class, index, probability}]}], "
                        + "skipped: [{file, reason}]}."})
final class PredictCommand implements Subcommand {
    @Spec
    private CommandSpec command;

    @Parameters(index = "0", paramLabel = "MODEL", completionCandidates = ZooNames.class,
            description = "a zoo model: ${COMPLETION-CANDIDATES}")
    String modelName;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "IMAGE|DIR", description = "image files, or folders of them")
    List<Path> inputs;

    @Option(names = "--checkpoint", paramLabel = "FILE", required = true, order = 1,
            description = "the weights, written by isthmus train (or a PyTorch state_dict as safetensors)")
    Path checkpoint;

    int top;

    @Option(names = "--top", paramLabel = "K", defaultValue = "5", order = 2,
            description = "classes shown per image, most probable first (default: ${DEFAULT-VALUE})")
    void top(int value) {
        top = Bounds.check(command, "--top", value, 1, 100_000);
    }

    int batch;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "64", order = 3,
            description = "images per forward pass (default: ${DEFAULT-VALUE})")
    void batch(int value) {
        batch = Bounds.check(command, "--batch", value, 1, 65_536);
    }

    @Option(names = "--strict", order = 4, description = "stop at the first unreadable image (exit status 1)")
    boolean strict;

    @Mixin
    DeviceOptions machine;

    @Mixin
    StandardOptions standard;

    /** One image's most probable classes. */
    record Prediction(Path file, int[] classes, double[] probabilities) {
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        Zoo.Entry entry = SummaryCommand.zooEntry(modelName);
        List<Path> files = imageFiles();
        InputMetadata saved = InputMetadata.read(checkpoint);
        ImageTransform transform = saved != null && saved.transform() != null ? saved.transform()
                : ImageTransform.toSize(entry.channels(), entry.height(), entry.width());
        if (transform.height() != entry.height() || transform.width() != entry.width()) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + " was trained on " + transform.height() + "x"
                    + transform.width() + " images, but " + entry.name() + " takes " + entry.height() + "x" + entry.width());
        }
        if (saved == null || saved.transform() == null) {
            out.println("note: " + checkpoint + " has no preprocessing metadata (not written by isthmus train); images are "
                    + transform.describe() + ", not normalized");
        }
        int classes = saved != null ? saved.classes() : entry.classes();
        List<String> names = saved != null ? saved.classNames() : null;
        Normalization normalization = saved != null ? saved.normalization() : null;
        int shown = Math.min(top, classes);
        int capacity = Math.min(batch, files.size());

        List<Prediction> predictions = new ArrayList<>();
        List<Map<String, Object>> skipped = new ArrayList<>();
        Devices.Choice choice = machine.open();
        try (var device = choice.device();
             Model model = entry.create(transform.channels(), classes);
             Arena arena = Arena.ofConfined();
             Batches batches = new Batches(model, classes)) {
            // Prediction runs no backward: the layers share activation memory (InferencePlan).
            model.inferenceOnly().precision(machine.precision).build(device, capacity, 0);
            Checkpoint.load(checkpoint, model, null);
            long sampleFloats = transform.sampleShape().elementCount();
            MemorySegment images = arena.allocate(ValueLayout.JAVA_FLOAT, capacity * sampleFloats);
            List<Path> pending = new ArrayList<>(capacity);
            for (Path file : files) {
                try {
                    transform.load(file, images, pending.size() * sampleFloats);
                } catch (UnreadableImageException unreadable) {
                    if (strict) {
                        throw new IllegalArgumentException("unreadable image " + unreadable.getMessage() + " (--strict)");
                    }
                    err.println("isthmus predict: warning: skipping unreadable image " + unreadable.getMessage());
                    Map<String, Object> skip = new LinkedHashMap<>();
                    skip.put("file", file.toString());
                    skip.put("reason", unreadable.reason());
                    skipped.add(skip);
                    continue;
                }
                if (normalization != null) {
                    normalization.apply(images, pending.size() * sampleFloats,
                            transform.height() * transform.width());
                }
                pending.add(file);
                if (pending.size() == capacity) {
                    report(batches.probabilities(images, pending.size()), pending, shown, names, predictions, out);
                    pending.clear();
                }
            }
            if (!pending.isEmpty()) {
                report(batches.probabilities(images, pending.size()), pending, shown, names, predictions, out);
            }
        }
        if (predictions.isEmpty()) {
            throw new IllegalArgumentException("none of the " + files.size() + " images could be read");
        }
        if (standard.json) {
            out.println(Json.write(json(predictions, skipped, names)));
        }
        return 0;
    }

    /** The files named, and the images below the folders named (each folder's in sorted order). */
    private List<Path> imageFiles() throws java.io.IOException {
        List<Path> files = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                List<Path> found = ImageFolders.imageFiles(input);
                if (found.isEmpty()) {
                    throw new IllegalArgumentException("folder " + input + " has no images (" + String.join(", ",
                            ImageFolders.EXTENSIONS) + ")");
                }
                files.addAll(found);
            } else if (Files.exists(input)) {
                files.add(input);
            } else {
                throw new UsageException(command.name() + ": no such file or folder: " + input);
            }
        }
        return files;
    }

    private static void report(double[][] probabilities, List<Path> files, int shown, List<String> names,
                               List<Prediction> predictions, PrintStream out) {
        for (int i = 0; i < files.size(); i++) {
            int[] order = topClasses(probabilities[i], shown);
            double[] chosen = new double[shown];
            StringBuilder line = new StringBuilder(files.get(i).toString()).append(':');
            for (int k = 0; k < shown; k++) {
                chosen[k] = probabilities[i][order[k]];
                line.append(k == 0 ? " " : ", ").append(className(order[k], names))
                        .append(String.format(" %.4f", chosen[k]));
            }
            out.println(line);
            predictions.add(new Prediction(files.get(i), order, chosen));
        }
    }

    /** The indices of the {@code k} largest values, largest first; ties go to the lower index. */
    static int[] topClasses(double[] probabilities, int k) {
        Integer[] indices = new Integer[probabilities.length];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = i;
        }
        java.util.Arrays.sort(indices, (a, b) -> probabilities[a] != probabilities[b]
                ? Double.compare(probabilities[b], probabilities[a]) : Integer.compare(a, b));
        int[] top = new int[k];
        for (int i = 0; i < k; i++) {
            top[i] = indices[i];
        }
        return top;
    }

    private static String className(int index, List<String> names) {
        return names == null ? Integer.toString(index) : names.get(index);
    }

    private Map<String, Object> json(List<Prediction> predictions, List<Map<String, Object>> skipped, List<String> names) {
        List<Object> items = new ArrayList<>();
        for (Prediction prediction : predictions) {
            List<Object> top = new ArrayList<>();
            for (int k = 0; k < prediction.classes().length; k++) {
                Map<String, Object> choice = new LinkedHashMap<>();
                choice.put("class", className(prediction.classes()[k], names));
                choice.put("index", prediction.classes()[k]);
                choice.put("probability", prediction.probabilities()[k]);
                top.add(choice);
            }
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("file", prediction.file().toString());
            item.put("top", top);
            items.add(item);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", modelName);
        json.put("checkpoint", checkpoint.toString());
        json.put("predictions", items);
        json.put("skipped", skipped);
        return json;
    }

    /** Runs batches through the model in eval mode; one device input per batch size (the last may be smaller). */
    private static final class Batches implements AutoCloseable {
        private final Model model;
        private final int classes;
        private final Map<Integer, Tensor> inputs = new LinkedHashMap<>();

        Batches(Model model, int classes) {
            this.model = model;
            this.classes = classes;
        }

        /** Softmax of the logits of the first {@code count} samples of {@code images}, in double. */
        double[][] probabilities(MemorySegment images, int count) {
            Device device = model.device();
            Tensor input = inputs.computeIfAbsent(count, n -> device.allocateActivation(model.batchShape(n)));
            device.copyFromHost(images.asSlice(0, input.elementCount() * Float.BYTES), input);
            Tensor logits = model.forward(input, false);
            float[] values = new float[count * classes];
            device.copyToHost(logits, MemorySegment.ofArray(values));
            double[][] probabilities = new double[count][classes];
            for (int n = 0; n < count; n++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, values[n * classes + c]);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    probabilities[n][c] = Math.exp(values[n * classes + c] - max);
                    sum += probabilities[n][c];
                }
                for (int c = 0; c < classes; c++) {
                    probabilities[n][c] /= sum;
                }
            }
            return probabilities;
        }

        @Override
        public void close() {
            inputs.values().forEach(Tensor::close);
            inputs.clear();
        }
    }
}
