package dev.isthmus.cli;

import dev.isthmus.cli.bench.StepBenchmark;
import dev.isthmus.device.Devices;
import dev.isthmus.io.Json;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code isthmus bench}: steady-state images/s of training steps and inference on random data. */
final class BenchCommand implements Command {
    static final List<String> CANONICAL = List.of("lenet5", "vgg-small", "vgg-small-bn", "resnet20");

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "images/s of a training step and of inference (the canonical suite by default)";
    }

    @Override
    public String help() {
        return """
                Usage: isthmus bench [MODEL...] [--modes train,infer] [--batch-train N] [--batch-infer N]
                                     [--seconds S] [--repeats N] [--device cpu|cuda|auto] [--threads N] [--json]
                       isthmus bench [MODEL...] --layers [--steps 20] [--batch-train N]

                Measures as shared/peers/torch_bench.py does: float32, random data, 20 warm-up steps (then
                more, up to 15 s, until two half-second windows agree within 5% with the JIT idle), then
                --repeats runs of about --seconds each (median reported). A training step is zero grads,
                forward, cross-entropy, backward and an SGD (momentum 0.9) update; inference is an
                eval-mode forward. Defaults: lenet5 vgg-small vgg-small-bn resnet20, batch 64 (train)
                and 256 (infer), 1 s x 5 repeats. Each result is printed as
                  RESULT model=... mode=... batch=... device=... threads=... ips=... spread=MIN..MAX
                with the Java heap bytes and device allocations per steady-state step.

                --layers takes a training step apart instead: milliseconds per step of each layer's
                forward, backward-data and backward-filter, the loss, the optimizer and the batch copy,
                and for every convolution its GFLOP/s next to the SGEMM GFLOP/s that OpenBLAS reaches
                in the same run on a GEMM of the convolution's size (M = out channels, N = batch x
                output pixels, K = in channels x kernel area).
                """;
    }

    /** The process's peak resident memory so far (VmHWM), as torch_bench.py reports ru_maxrss; -1 if unknown. */
    static long peakResidentMiB() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException unavailable) {
            // Not Linux, or /proc is hidden: the figure is simply missing.
        }
        return -1;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(name(), args,
                Set.of("modes", "batch-train", "batch-infer", "seconds", "repeats", "device", "threads", "seed", "steps"),
                Set.of("json", "layers"));
        List<String> models = options.positionals().isEmpty() ? CANONICAL : options.positionals();
        for (String model : models) {
            SummaryCommand.zooEntry(model);
        }
        String[] modes = options.string("modes", "train,infer").split(",");
        for (String mode : modes) {
            if (!mode.equals("train") && !mode.equals("infer")) {
                throw new UsageException(name() + ": --modes takes train, infer or train,infer, got '" + mode + "'");
            }
        }
        int batchTrain = options.integer("batch-train", 64, 1, 65536);
        int batchInfer = options.integer("batch-infer", 256, 1, 65536);
        double seconds = options.decimal("seconds", 1.0, 0.01, 3600);
        int repeats = options.integer("repeats", 5, 1, 1000);
        int threads = options.integer("threads", 0, 0, 1024);
        long seed = options.longValue("seed", 0);
        List<Object> results = new ArrayList<>();
        Devices.Choice choice = Devices.open(options.string("device", "cpu"), threads);
        if (options.flag("layers")) {
            try (var device = choice.device()) {
                for (String name : models) {
                    try (Model model = Zoo.entry(name).create()) {
                        model.build(device, batchTrain, seed);
                        results.add(LayerBreakdown.print(model, batchTrain, options.integer("steps", 20, 1, 100_000), seed, out));
                    }
                }
            }
            if (options.flag("json")) {
                out.println(Json.write(Map.of("breakdowns", results)));
            }
            return 0;
        }
        try (var device = choice.device()) {
            String threadCount = device instanceof dev.isthmus.device.cpu.CpuDevice cpu ? Integer.toString(cpu.threads()) : "-";
            for (String name : models) {
                for (String mode : modes) {
                    int batch = mode.equals("train") ? batchTrain : batchInfer;
                    try (Model model = Zoo.entry(name).create()) {
                        model.build(device, batch, seed);
                        StepBenchmark.Result r = StepBenchmark.measure(model,
                                mode.equals("train") ? StepBenchmark.Mode.TRAIN : StepBenchmark.Mode.INFER, batch, seconds, repeats, seed);
                        out.printf("RESULT model=%s mode=%s batch=%d device=%s threads=%s ips=%.0f spread=%.0f..%.0f params=%d"
                                        + " heap_bytes_per_step=%d device_allocations=%d peak_rss_MiB=%d%n", r.model(), r.mode(),
                                r.batch(), device.name(), threadCount, r.imagesPerSecond(), r.min(), r.max(), r.parameters(),
                                r.heapBytesPerStep(), r.deviceAllocationsPerRun(), peakResidentMiB());
                        out.flush();
                        Map<String, Object> item = new LinkedHashMap<>();
                        item.put("model", r.model());
                        item.put("mode", r.mode());
                        item.put("batch", r.batch());
                        item.put("device", device.name());
                        item.put("threads", threadCount);
                        item.put("images_per_s", r.imagesPerSecond());
                        item.put("samples", java.util.Arrays.stream(r.samples()).boxed().toList());
                        item.put("params", r.parameters());
                        item.put("heap_bytes_per_step", r.heapBytesPerStep());
                        item.put("device_allocations", r.deviceAllocationsPerRun());
                        item.put("peak_rss_MiB", peakResidentMiB());
                        results.add(item);
                    }
                }
            }
        }
        if (options.flag("json")) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("results", results);
            out.println(Json.write(json));
        }
        return 0;
    }
}
