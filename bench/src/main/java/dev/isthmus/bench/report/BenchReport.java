package dev.isthmus.bench.report;

import dev.isthmus.bench.LayerKernelsBenchmark;
import dev.isthmus.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one sitting's raw figures into a report: {@code report.md} (the canonical suite, Isthmus
 * against PyTorch's better thread count, with spreads, memory and the JMH kernels), {@code chart.png}
 * and {@code results.json}, and flags every row more than 15% slower than a previous report.
 *
 * <pre>
 * BenchReport --out DIR --isthmus FILE... --torch FILE... [--jmh FILE...] [--previous results.json] [--title TEXT]
 * </pre>
 * Isthmus files hold {@code isthmus bench --json} output (the JSON is the last line); torch files
 * hold {@code torch_bench.py --json} output (one JSON line per result); JMH files hold JMH's JSON
 * results ({@code -rf json}), from one run or several (ci/bench-report --quick runs two).
 */
public final class BenchReport {
    static final double REGRESSION = 0.15;
    /** The summary row of the F32 ceiling: the best SGEMM GFLOP/s of OpenBLAS called through FFM. */
    static final String SGEMM_CEILING = "SGEMM ceiling (OpenBLAS through FFM, best size)";
    /** The summary row of the BF16 ceiling: the best GFLOP/s of Bf16GemmBenchmark (oneDNN's BF16 inner product). */
    static final String BF16_CEILING = "BF16 GEMM ceiling (oneDNN, best size)";

    private BenchReport() {
    }

    /**
     * One canonical-suite row: a model, a mode and a precision; the peer's figure is its best configuration's
     * ({@code torchConfig}, e.g. {@code 2-clean}), and {@code torchBlas} the BLAS that process had mapped.
     * {@code gflops} is Isthmus's img/s × {@link ModelFlops#perImage} and {@code ofCeiling} its fraction of
     * the GEMM ceiling of its precision measured in the same run (NaN when either is unknown).
     */
    record Row(String model, String mode, String precision, int batch, double isthmus, double isthmusMin, double isthmusMax,
               long isthmusRss, long heapBytes, long deviceAllocations, double torch, double torchMin, double torchMax,
               int torchThreads, String torchConfig, String torchBlas, long torchRss, Double previous, double gflops,
               double ofCeiling) {
        double ratio() {
            return torch > 0 ? isthmus / torch : Double.NaN;
        }

        boolean regressed() {
            return previous != null && isthmus < previous * (1 - REGRESSION);
        }
    }

    public static void main(String[] args) throws IOException {
        Map<String, List<String>> options = parse(args);
        Path out = Path.of(single(options, "out"));
        Files.createDirectories(out);
        List<Map<String, Object>> isthmus = new ArrayList<>();
        for (String file : options.getOrDefault("isthmus", List.of())) {
            String last = Files.readAllLines(Path.of(file)).stream().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                    .orElseThrow(() -> new IllegalArgumentException(file + " holds no isthmus bench --json output"));
            for (Object result : (List<?>) Json.parseObject(last).get("results")) {
                isthmus.add(cast(result));
            }
        }
        List<Map<String, Object>> torch = new ArrayList<>();
        List<Map<String, Object>> peers = new ArrayList<>();
        for (String file : options.getOrDefault("torch", List.of())) {
            // bench/peers/torch_peer.py ends with a PEER line: the configuration's name and the libraries it had mapped.
            Map<String, Object> peer = Files.readAllLines(Path.of(file)).stream().filter(l -> l.startsWith("PEER {"))
                    .map(l -> Json.parseObject(l.substring(5))).findFirst().orElse(Map.of());
            if (!peer.isEmpty()) {
                peers.add(peer);
            }
            // The JSON lines lack the peak RSS that the RESULT lines print; it is matched back in.
            Map<String, Long> rss = new LinkedHashMap<>();
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith("RESULT ")) {
                    Map<String, String> fields = new LinkedHashMap<>();
                    for (String word : line.substring(7).split(" ")) {
                        int equals = word.indexOf('=');
                        if (equals > 0) {
                            fields.put(word.substring(0, equals), word.substring(equals + 1));
                        }
                    }
                    if (fields.containsKey("peak_rss_MiB")) {
                        rss.put(fields.get("model") + "/" + fields.get("mode") + "/" + fields.getOrDefault("precision", "fp32"),
                                Long.parseLong(fields.get("peak_rss_MiB")));
                    }
                }
            }
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith("{")) {
                    Map<String, Object> result = Json.parseObject(line);
                    Long peak = rss.get(result.get("model") + "/" + result.get("mode") + "/" + precision(result));
                    if (peak != null) {
                        result.put("peak_rss_MiB", peak);
                    }
                    if (!peer.isEmpty()) {
                        result.put("config", peer.get("config"));
                        result.put("blas", blasName(peer));
                    }
                    torch.add(result);
                }
            }
        }
        Map<String, Double> previous = previous(options.containsKey("previous") ? Path.of(single(options, "previous")) : null);
        List<Map<String, Object>> jmh = jmh(options.getOrDefault("jmh", List.of()).stream().map(Path::of).toList());
        List<Row> rows = rows(isthmus, torch, previous, jmh);

        String title = options.containsKey("title") ? String.join(" ", options.get("title")) : "Isthmus benchmark report";
        String markdown = Markdown.render(title, rows, jmh, peers);
        Files.writeString(out.resolve("report.md"), markdown);
        Chart.write(rows, out.resolve("chart.png"));
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("title", title);
        raw.put("isthmus", isthmus);
        raw.put("torch", torch);
        raw.put("peers", peers);
        raw.put("jmh", jmh);
        Files.writeString(out.resolve("results.json"), Json.write(raw) + "\n");
        System.out.println(Markdown.table(rows));
        long regressions = rows.stream().filter(Row::regressed).count();
        if (regressions > 0) {
            System.out.println(regressions + " row(s) more than " + (int) (100 * REGRESSION)
                    + "% slower than the previous report (flagged in the table; timings on a shared machine are noisy)");
        }
    }

    private static List<Row> rows(List<Map<String, Object>> isthmus, List<Map<String, Object>> torch, Map<String, Double> previous,
                                  List<Map<String, Object>> jmh) {
        List<Row> rows = new ArrayList<>();
        for (Map<String, Object> ours : isthmus) {
            String model = (String) ours.get("model");
            String mode = (String) ours.get("mode");
            String precision = precision(ours);
            // GFLOP/s of the row against the ceiling of its precision; also written into results.json.
            double flops = ModelFlops.perImage(model, mode);
            double gflops = number(ours, "images_per_s") * flops / 1e9;
            double ceiling = ceiling(jmh, "bf16".equals(precision) ? BF16_CEILING : SGEMM_CEILING);
            double ofCeiling = ceiling > 0 ? gflops / ceiling : Double.NaN;
            if (!Double.isNaN(gflops)) {
                ours.put("flops_per_image", flops);
                ours.put("gflops", gflops);
                if (!Double.isNaN(ofCeiling)) {
                    ours.put("fraction_of_ceiling", ofCeiling);
                }
            }
            Map<String, Object> best = null;
            for (Map<String, Object> peer : torch) {
                if (model.equals(peer.get("model")) && mode.equals(peer.get("mode")) && precision.equals(precision(peer))
                        && (best == null || number(peer, "images_per_s") > number(best, "images_per_s"))) {
                    best = peer;
                }
            }
            double[] spread = spread(ours);
            double[] peerSpread = best == null ? new double[] {0, 0} : spread(best);
            rows.add(new Row(model, mode, precision, (int) number(ours, "batch"), number(ours, "images_per_s"), spread[0], spread[1],
                    (long) number(ours, "peak_rss_MiB"), (long) number(ours, "heap_bytes_per_step"),
                    (long) number(ours, "device_allocations"), best == null ? 0 : number(best, "images_per_s"), peerSpread[0],
                    peerSpread[1], best == null ? 0 : (int) number(best, "threads"),
                    best == null ? "" : String.valueOf(best.getOrDefault("config", best.get("threads") + " threads")),
                    best == null ? "" : String.valueOf(best.getOrDefault("blas", "?")),
                    best == null ? -1 : (long) number(best, "peak_rss_MiB"), previous.get(model + "/" + mode + "/" + precision),
                    gflops, ofCeiling));
        }
        return rows;
    }

    private static double[] spread(Map<String, Object> result) {
        List<?> samples = (List<?>) result.get("samples");
        double min = Double.MAX_VALUE;
        double max = 0;
        for (Object sample : samples) {
            double v = ((Number) sample).doubleValue();
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        return new double[] {min, max};
    }

    private static Map<String, Double> previous(Path file) throws IOException {
        Map<String, Double> figures = new LinkedHashMap<>();
        if (file == null || !Files.isRegularFile(file)) {
            return figures;
        }
        for (Object result : (List<?>) Json.parseObject(Files.readString(file)).get("isthmus")) {
            Map<String, Object> map = cast(result);
            figures.put(map.get("model") + "/" + map.get("mode") + "/" + precision(map), number(map, "images_per_s"));
        }
        return figures;
    }

    /**
     * JMH results with, for the convolution kernels, GFLOP/s next to the ceiling of their precision
     * measured in the same run: F32 kernels against the SGEMM ceiling, {@code ...Bf16} kernels against
     * the BF16 GEMM ceiling; each ceiling is a summary row at the end.
     */
    static List<Map<String, Object>> jmh(List<Path> files) throws IOException {
        List<Map<String, Object>> results = new ArrayList<>();
        List<Object> parsed = new ArrayList<>();
        for (Path file : files) {
            parsed.addAll((List<?>) Json.parse(Files.readString(file)));
        }
        double sgemmCeiling = 0;
        double bf16Ceiling = 0;
        for (Object item : parsed) {
            Map<String, Object> result = cast(item);
            Map<String, Object> metric = cast(result.get("primaryMetric"));
            Map<String, Object> params = result.get("params") == null ? Map.of() : cast(result.get("params"));
            String benchmark = ((String) result.get("benchmark")).replace("dev.isthmus.bench.", "");
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("benchmark", benchmark);
            row.put("params", params);
            row.put("score", number(metric, "score"));
            row.put("unit", metric.get("scoreUnit"));
            if (benchmark.startsWith("SgemmBenchmark") || benchmark.startsWith("Bf16GemmBenchmark")) {
                double n = Double.parseDouble((String) params.get("size"));
                Map<String, Object> percentiles = cast(metric.get("scorePercentiles"));
                double medianMs = number(percentiles, "50.0");
                double gflops = 2 * n * n * n / (medianMs * 1e-3) / 1e9;
                row.put("gflops", gflops);
                // The F32 ceiling is OpenBLAS's, as issue 5 sets it; the device's (oneDNN) SGEMM is shown beside it.
                if (benchmark.endsWith(".openBlas")) {
                    sgemmCeiling = Math.max(sgemmCeiling, gflops);
                } else if (benchmark.startsWith("Bf16GemmBenchmark")) {
                    bf16Ceiling = Math.max(bf16Ceiling, gflops);
                }
            }
            results.add(row);
        }
        for (Map<String, Object> row : results) {
            String benchmark = (String) row.get("benchmark");
            if (benchmark.startsWith("LayerKernelsBenchmark.convolution")) {
                Map<String, Object> params = cast(row.get("params"));
                double microseconds = ((Number) row.get("score")).doubleValue();
                double gflops = 2.0 * LayerKernelsBenchmark.multiplyAdds((String) params.get("conv")) / (microseconds * 1e-6) / 1e9;
                row.put("gflops", gflops);
                boolean bf16 = benchmark.endsWith("Bf16");
                double ceiling = bf16 ? bf16Ceiling : sgemmCeiling;
                if (ceiling > 0) {
                    row.put("ceiling", bf16 ? "BF16 GEMM" : "SGEMM");
                    row.put("fraction_of_ceiling", gflops / ceiling);
                    if (!bf16) {
                        row.put("fraction_of_sgemm", gflops / ceiling);
                    }
                }
            }
        }
        if (sgemmCeiling > 0) {
            results.add(summary(SGEMM_CEILING, sgemmCeiling));
        }
        if (bf16Ceiling > 0) {
            results.add(summary(BF16_CEILING, bf16Ceiling));
        }
        return results;
    }

    private static Map<String, Object> summary(String name, double gflops) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("benchmark", name);
        summary.put("gflops", gflops);
        return summary;
    }

    /** {@return the GFLOP/s of the summary row {@code name} in the JMH results, or 0 when it was not measured} */
    static double ceiling(List<Map<String, Object>> jmh, String name) {
        for (Map<String, Object> row : jmh) {
            if (name.equals(row.get("benchmark"))) {
                return ((Number) row.get("gflops")).doubleValue();
            }
        }
        return 0;
    }

    /** A result's precision; results written before precisions existed are fp32. */
    static String precision(Map<String, Object> result) {
        Object precision = result.get("precision");
        return precision == null ? "fp32" : precision.toString();
    }

    /** The BLAS a peer process had mapped, by file name (e.g. libopenblasp-r0.3.21.so), or "none mapped". */
    static String blasName(Map<String, Object> peer) {
        List<?> libraries = peer.get("blas") instanceof List<?> list ? list : List.of();
        List<String> names = new ArrayList<>();
        for (Object library : libraries) {
            String path = library.toString();
            String name = path.substring(path.lastIndexOf('/') + 1);
            // libblas.so.3 is the alternatives link that the real library sits behind: name the real one.
            if (!name.startsWith("libblas.so") || libraries.size() == 1) {
                names.add(name.startsWith("libblas.so") ? path : name);
            }
        }
        return names.isEmpty() ? "none mapped" : String.join(" + ", names);
    }

    static double number(Map<String, Object> map, String key) {
        Object value = map.get(key);
        return value instanceof Number number ? number.doubleValue() : -1;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> cast(Object value) {
        return (Map<String, Object>) value;
    }

    private static Map<String, List<String>> parse(String[] args) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        String current = null;
        for (String arg : args) {
            if (arg.startsWith("--")) {
                current = arg.substring(2);
                options.computeIfAbsent(current, k -> new ArrayList<>());
            } else if (current == null) {
                throw new IllegalArgumentException("BenchReport: unexpected argument " + arg);
            } else {
                options.get(current).add(arg);
            }
        }
        if (!options.containsKey("out")) {
            throw new IllegalArgumentException("BenchReport: --out DIR is required");
        }
        return options;
    }

    private static String single(Map<String, List<String>> options, String key) {
        List<String> values = options.get(key);
        if (values == null || values.size() != 1) {
            throw new IllegalArgumentException("BenchReport: --" + key + " takes one value");
        }
        return values.getFirst();
    }
}
