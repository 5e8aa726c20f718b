package dev.isthmus.cli;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Json;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code isthmus summary MODEL}: the layer table with output shapes and parameter counts. */
final class SummaryCommand implements Command {
    @Override
    public String name() {
        return "summary";
    }

    @Override
    public String summary() {
        return "a model's layers, output shapes and parameter counts";
    }

    @Override
    public String help() {
        StringBuilder text = new StringBuilder("""
                Usage: isthmus summary MODEL [--classes N] [--channels N] [--batch N] [--json]

                Prints each layer with its output shape (for a batch of --batch, default 1) and its
                parameter count, the total last. Models:
                """);
        for (Zoo.Entry entry : Zoo.entries()) {
            text.append(String.format("  %-13s %s%n", entry.name(), entry.description()));
        }
        return text.toString();
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(name(), args, Set.of("classes", "channels", "batch"), Set.of("json"));
        if (options.positionals().size() != 1) {
            throw new UsageException(name() + ": expected one MODEL (see isthmus summary --help)");
        }
        Zoo.Entry entry = zooEntry(options.positionals().get(0));
        int classes = options.integer("classes", 10, 1, 1_000_000);
        int channels = options.integer("channels", entry.channels(), 1, 4096);
        int batch = options.integer("batch", 1, 1, 65536);
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
            if (options.flag("json")) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("model", model.name());
                result.put("params", total);
                result.put("input", model.sampleShape().dims());
                result.put("layers", json);
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
