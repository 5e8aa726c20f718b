package dev.isthmus.cli;

import dev.isthmus.device.Devices;
import dev.isthmus.io.Json;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.train.StepBenchmark;

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

                Measures as shared/peers/torch_bench.py does: float32, random data, 20 warm-up steps, then
                --repeats runs of about --seconds each (median reported). A training step is zero grads,
                forward, cross-entropy, backward and an SGD (momentum 0.9) update; inference is an
                eval-mode forward. Defaults: lenet5 vgg-small vgg-small-bn resnet20, batch 64 (train)
                and 256 (infer), 1 s x 5 repeats. Each result is printed as
                  RESULT model=... mode=... batch=... device=... threads=... ips=... spread=MIN..MAX
                with the Java heap bytes and device allocations per steady-state step.
                """;
    }

    @Override
    public int run(String[] args, PrintStream out, PrintStream err) {
        Options options = Options.parse(name(), args,
                Set.of("modes", "batch-train", "batch-infer", "seconds", "repeats", "device", "threads", "seed"), Set.of("json"));
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
                                        + " heap_bytes_per_step=%d device_allocations=%d%n", r.model(), r.mode(), r.batch(),
                                device.name(), threadCount, r.imagesPerSecond(), r.min(), r.max(), r.parameters(),
                                r.heapBytesPerStep(), r.deviceAllocationsPerRun());
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
