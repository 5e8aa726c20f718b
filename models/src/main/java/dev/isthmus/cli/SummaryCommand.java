package dev.isthmus.cli;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Json;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code isthmus summary MODEL}: the layer table with output shapes and parameter counts. */
@Command(name = "summary", sortOptions = false,
        header = "a model's layers, output shapes and parameter counts",
        description = {"Prints each layer with its output shape (for a batch of --batch) and its parameter count, "
                + "the total last, then the memory a training run needs at that batch (what train refuses to start "
                + "without) and what inference alone needs (eval, predict and bench's inference share activation memory between "
                + "layers)."})
final class SummaryCommand implements Subcommand {
    @Spec
    private CommandSpec command;

    @Parameters(paramLabel = "MODEL", completionCandidates = ZooNames.class,
            description = "a model of the zoo (the list below)")
    String modelName;

    /** Null until given: the default is the model's own. */
    Integer classes;

    @Option(names = "--classes", paramLabel = "N", order = 1,
            description = "output classes (default: the model's own, 10; 1000 for resnet18/34/50)")
    void classes(int value) {
        classes = Bounds.check(command, "--classes", value, 1, 1_000_000);
    }

    /** Null until given: the default is the model's own. */
    Integer channels;

    @Option(names = "--channels", paramLabel = "N", order = 2, description = "input channels (default: the model's own)")
    void channels(int value) {
        channels = Bounds.check(command, "--channels", value, 1, 4096);
    }

    int batch;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", order = 3,
            description = "the batch of the output shapes (default: ${DEFAULT-VALUE})")
    void batch(int value) {
        batch = Bounds.check(command, "--batch", value, 1, 65536);
    }

    @Mixin
    StandardOptions standard;

    /** The zoo with each model's description: the footer of {@code isthmus summary --help}. */
    static String modelTable() {
        StringBuilder text = new StringBuilder("%nModels:%n");
        for (Zoo.Entry entry : Zoo.entries()) {
            // The footer is itself a format string: its %n are line breaks, a literal % is %%.
            text.append(String.format("  %-13s %s%%n", entry.name(), entry.description().replace("%", "%%")));
        }
        return text.toString();
    }

    @Override
    public int run(PrintStream out, PrintStream err) {
        Zoo.Entry entry = zooEntry(modelName);
        int channels = this.channels == null ? entry.channels() : this.channels;
        int classes = this.classes == null ? entry.classes() : this.classes;
        try (CpuDevice device = new CpuDevice(1); Model model = entry.create(channels, classes)) {
            model.build(device, batch, 0);
            List<Model.SummaryRow> rows = model.summary();
            int nameWidth = Math.max(5, rows.stream().mapToInt(r -> r.name().length()).max().orElse(5));
            int layerWidth = Math.max(5, rows.stream().mapToInt(r -> r.layer().length()).max().orElse(5));
            String format = "%-" + nameWidth + "s  %-" + layerWidth + "s  %-18s %,12d%n";
            out.printf("%-" + nameWidth + "s  %-" + layerWidth + "s  %-18s %12s%n", "name", "layer", "output", "parameters");
            List<Object> json = new ArrayList<>();
            for (Model.SummaryRow row : rows) {
                out.printf(format, row.name(), row.layer(), row.outputShape(), row.parameters());
                Map<String, Object> item = new LinkedHashMap<>();
                item.put("name", row.name());
                item.put("layer", row.layer());
                item.put("output", row.outputShape().dims());
                item.put("params", row.parameters());
                json.add(item);
            }
            long total = model.parameterCount();
            out.printf("%s: %,d parameters, input %s%n", model.name(), total, model.sampleShape());
            dev.isthmus.nn.MemoryEstimate memory = model.memoryEstimate();
            out.printf("memory to train: %s%n", memory.describe());
            out.printf("memory for inference alone (eval, predict, bench infer): %s at batch %d (parameters %s, buffers %s,"
                            + " activations and workspaces shared by lifetime %s, against %s unshared)%n",
                    dev.isthmus.device.HostMemory.format(memory.inference()), memory.batch(),
                    dev.isthmus.device.HostMemory.format(memory.parameters()),
                    dev.isthmus.device.HostMemory.format(memory.buffers()),
                    dev.isthmus.device.HostMemory.format(memory.inferenceActivations()),
                    dev.isthmus.device.HostMemory.format(memory.activations()));
            if (standard.json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("model", model.name());
                result.put("params", total);
                result.put("input", model.sampleShape().dims());
                result.put("layers", json);
                Map<String, Object> bytes = new LinkedHashMap<>();
                bytes.put("batch", memory.batch());
                bytes.put("total", memory.total());
                bytes.put("parameters", memory.parameters());
                bytes.put("gradients", memory.gradients());
                bytes.put("optimizer_state", memory.optimizerState());
                bytes.put("buffers", memory.buffers());
                bytes.put("activations", memory.activations());
                bytes.put("input_gradients", memory.inputGradients());
                bytes.put("inference", memory.inference());
                bytes.put("inference_activations", memory.inferenceActivations());
                result.put("memory_bytes", bytes);
                out.println(Json.write(result));
            }
        }
        return 0;
    }

    static Zoo.Entry zooEntry(String name) {
        try {
            return Zoo.entry(name);
        } catch (IllegalArgumentException unknown) {
            throw new UsageException(unknown.getMessage());
        }
    }
}
