package dev.isthmus.cli;

import dev.isthmus.cli.bench.StepBenchmark;
import dev.isthmus.device.Devices;
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

/** {@code isthmus bench}: steady-state images/s of training steps and inference on random data. */
@Command(name = "bench", sortOptions = false,
        header = "images/s of a training step and of inference (the canonical suite by default)",
        description = {"Measures as shared/peers/torch_bench.py does: float32, random data, 20 warm-up steps (then more, "
                + "up to 15 s, until two half-second windows agree within 5%% with the JIT idle), then --repeats runs of "
                + "about --seconds each (median reported). A training step is zero grads, forward, cross-entropy, "
                + "backward and an SGD (momentum 0.9) update; inference is an eval-mode forward. Each result is "
                + "printed as",
                "  RESULT model=... mode=... batch=... device=... ips=... spread=MIN..MAX ...",
                "with the Java heap bytes and device allocations per steady-state step.",
                "",
                "--layers takes a training step apart instead: milliseconds per step of each layer's forward, "
                        + "backward-data and backward-filter, the loss, the optimizer and the batch copy, and for every "
                        + "convolution its GFLOP/s next to the SGEMM GFLOP/s that OpenBLAS reaches in the same run on a "
                        + "GEMM of the convolution's size (M = out channels, N = batch x output pixels, K = in channels "
                        + "x kernel area)."})
final class BenchCommand implements Subcommand {
    static final List<String> CANONICAL = List.of("lenet5", "vgg-small", "vgg-small-bn", "resnet20");

    @Spec
    private CommandSpec command;

    @Parameters(paramLabel = "MODEL", arity = "0..*", completionCandidates = ZooNames.class,
            description = "models to measure (default: lenet5 vgg-small vgg-small-bn resnet20); one of "
                    + "${COMPLETION-CANDIDATES}")
    List<String> modelNames;

    @Option(names = "--modes", paramLabel = "train,infer", defaultValue = "train,infer", order = 1,
            description = "what to measure: training steps, inference or both (default: ${DEFAULT-VALUE})")
    String modeList;

    int batchTrain;

    @Option(names = "--batch-train", paramLabel = "N", defaultValue = "64", order = 2,
            description = "batch of a training step (default: ${DEFAULT-VALUE})")
    void batchTrain(int value) {
        batchTrain = Bounds.check(command, "--batch-train", value, 1, 65536);
    }

    int batchInfer;

    @Option(names = "--batch-infer", paramLabel = "N", defaultValue = "256", order = 3,
            description = "batch of inference (default: ${DEFAULT-VALUE})")
    void batchInfer(int value) {
        batchInfer = Bounds.check(command, "--batch-infer", value, 1, 65536);
    }

    double seconds;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "1.0", order = 4,
            description = "length of one timed run (default: ${DEFAULT-VALUE})")
    void seconds(double value) {
        seconds = Bounds.check(command, "--seconds", value, 0.01, 3600);
    }

    int repeats;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "5", order = 5,
            description = "timed runs; the median is reported (default: ${DEFAULT-VALUE})")
    void repeats(int value) {
        repeats = Bounds.check(command, "--repeats", value, 1, 1000);
    }

    @Option(names = "--layers", order = 6, description = "a per-layer breakdown of a training step instead")
    boolean layers;

    int steps;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "20", order = 7,
            description = "profiled steps of --layers (default: ${DEFAULT-VALUE})")
    void steps(int value) {
        steps = Bounds.check(command, "--steps", value, 1, 100_000);
    }

    @Mixin
    SeedOption seed;

    @Mixin
    DeviceOptions machine;

    @Mixin
    StandardOptions standard;

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
    public int run(PrintStream out, PrintStream err) {
        List<String> models = modelNames == null || modelNames.isEmpty() ? CANONICAL : modelNames;
        for (String model : models) {
            SummaryCommand.zooEntry(model);
        }
        String[] modes = modeList.split(",");
        for (String mode : modes) {
            if (!mode.equals("train") && !mode.equals("infer")) {
                throw new UsageException(command.name() + ": --modes takes train, infer or train,infer, got '" + mode + "'");
            }
        }
        long seed = this.seed.value;
        List<Object> results = new ArrayList<>();
        Devices.Choice choice = machine.open();
        if (layers) {
            try (var device = choice.device()) {
                for (String name : models) {
                    try (Model model = Zoo.entry(name).create()) {
                        model.precision(machine.precision).build(device, batchTrain, seed);
                        results.add(LayerBreakdown.print(model, batchTrain, steps, seed, out));
                    }
                }
            }
            if (standard.json) {
                out.println(Json.write(Map.of("breakdowns", results)));
            }
            return 0;
        }
        try (var device = choice.device()) {
            String threadCount = device instanceof dev.isthmus.device.cpu.CpuDevice cpu ? Integer.toString(cpu.threads()) : "-";
            String precision = machine.precision.label();
            // The kernels the convolutions get (oneDNN's implementation names its ISA), so a figure says what ran.
            String kernel = device.convolutionKernel(machine.precision.operandType()).replace(' ', '_');
            for (String name : models) {
                for (String mode : modes) {
                    int batch = mode.equals("train") ? batchTrain : batchInfer;
                    try (Model model = Zoo.entry(name).create()) {
                        if (mode.equals("infer")) {
                            // As PyTorch's peer runs under no_grad: layers share activation memory, no gradients.
                            model.inferenceOnly();
                        }
                        model.precision(machine.precision).build(device, batch, seed);
                        StepBenchmark.Result r = StepBenchmark.measure(model,
                                mode.equals("train") ? StepBenchmark.Mode.TRAIN : StepBenchmark.Mode.INFER, batch, seconds, repeats, seed);
                        out.printf("RESULT model=%s mode=%s batch=%d device=%s threads=%s ips=%.0f spread=%.0f..%.0f params=%d"
                                        + " heap_bytes_per_step=%d device_allocations=%d peak_rss_MiB=%d precision=%s conv_kernel=%s%n",
                                r.model(), r.mode(),
                                r.batch(), device.name(), threadCount, r.imagesPerSecond(), r.min(), r.max(), r.parameters(),
                                r.heapBytesPerStep(), r.deviceAllocationsPerRun(), peakResidentMiB(), precision, kernel);
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
                        item.put("precision", precision);
                        item.put("conv_kernel", kernel);
                        results.add(item);
                    }
                }
            }
        }
        if (standard.json) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("results", results);
            out.println(Json.write(json));
        }
        return 0;
    }
}
