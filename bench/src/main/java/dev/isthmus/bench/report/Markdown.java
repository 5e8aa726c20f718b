package dev.isthmus.bench.report;

import java.util.List;
import java.util.Map;

/** The report's Markdown: the canonical-suite table, memory, and the JMH kernels. */
final class Markdown {
    private Markdown() {
    }

    static String table(List<BenchReport.Row> rows) {
        StringBuilder text = new StringBuilder();
        text.append("| model | mode | precision | batch | Isthmus img/s (spread) | Isthmus GFLOP/s (of ceiling) | PyTorch img/s (spread, best configuration) | ratio | peak RSS MiB (Isthmus / PyTorch) | heap B/step | vs previous |\n");
        text.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (BenchReport.Row r : rows) {
            String previous = r.previous() == null ? "" : String.format("%+.0f%%%s", 100 * (r.isthmus() / r.previous() - 1),
                    r.regressed() ? " **slower**" : "");
            text.append(String.format("| %s | %s | %s | %d | %,.0f (%,.0f–%,.0f) | %s | %s | %s | %s / %s | %d | %s |%n", r.model(), r.mode(),
                    r.precision(), r.batch(), r.isthmus(), r.isthmusMin(), r.isthmusMax(), modelGflops(r),
                    r.torch() > 0 ? String.format("%,.0f (%,.0f–%,.0f, %s)", r.torch(), r.torchMin(), r.torchMax(), r.torchConfig()) : "not run",
                    r.torch() > 0 ? String.format("**%.2f**", r.ratio()) : "–", r.isthmusRss(), r.torchRss() >= 0 ? r.torchRss() : "–",
                    r.heapBytes(), previous));
        }
        return text.toString();
    }

    /** A row's GFLOP/s and its share of its precision's ceiling ("12.3 (45% of BF16 GEMM)"), or "–" when unknown. */
    static String modelGflops(BenchReport.Row r) {
        if (Double.isNaN(r.gflops())) {
            return "–";
        }
        String ceiling = "bf16".equals(r.precision()) ? "BF16 GEMM" : "SGEMM";
        return Double.isNaN(r.ofCeiling()) ? String.format("%.1f", r.gflops())
                : String.format("%.1f (%.0f%% of %s)", r.gflops(), 100 * r.ofCeiling(), ceiling);
    }

    static String render(String title, List<BenchReport.Row> rows, List<Map<String, Object>> jmh, List<Map<String, Object>> peers) {
        StringBuilder text = new StringBuilder("# ").append(title).append("\n\n");
        text.append("Images per second of a training step (forward, cross-entropy, backward, SGD-momentum update) at the ")
                .append("training batch and of inference (eval-mode forward) at the inference batch, random data, ")
                .append("median of the runs with the slowest and fastest in brackets; fp32, and bf16 where both sides have it ")
                .append("(Isthmus `bench --precision bf16`, PyTorch `torch.autocast('cpu', dtype=torch.bfloat16)`). PyTorch is ")
                .append("Debian's python3-torch measured by shared/peers/torch_bench.py (through bench/peers/torch_peer.py) in the ")
                .append("same sitting, in four configurations — 1 or 2 threads × `asis` (the environment as set) or `clean` ")
                .append("(OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, OPENBLAS_NUM_THREADS=1) — and the fastest counts; ")
                .append("the table names it. Ratio = Isthmus / PyTorch. Peak RSS is each process's own high-water mark, one ")
                .append("process per model on each side. Heap B/step is what a steady-state step allocates on the Java heap. ")
                .append("Isthmus GFLOP/s = img/s × FLOPs per image, counted the usual way: 2 × the multiply-adds of the ")
                .append("convolutions and linear layers, the forward's for inference and 3 × the forward's for a training ")
                .append("step (forward, backward-data, backward-weights); in brackets its share of the GEMM ceiling of its ")
                .append("precision measured by JMH in the same run (fp32: the SGEMM ceiling, bf16: the BF16 GEMM ceiling, ")
                .append("oneDNN's BF16 inner product with F32 accumulation; both in the kernels table below).\n\n");
        text.append(peerLibraries(peers));
        text.append(table(rows)).append("\n![ratios](chart.png)\n\n");
        if (!jmh.isEmpty()) {
            text.append("## Kernels (JMH)\n\nConvolution kernels in F32 are set against the SGEMM ceiling, those in BF16 ")
                    .append("(`...Bf16`) against the BF16 GEMM ceiling.\n\n")
                    .append("| benchmark | parameters | score | GFLOP/s | of ceiling |\n|---|---|---:|---:|---:|\n");
            for (Map<String, Object> row : jmh) {
                Object score = row.get("score");
                Object gflops = row.get("gflops");
                Object fraction = row.get("fraction_of_ceiling");
                text.append(String.format("| %s | %s | %s | %s | %s |%n", row.get("benchmark"),
                        row.get("params") == null ? "" : row.get("params"),
                        score == null ? "" : String.format("%.3f %s", ((Number) score).doubleValue(), row.get("unit")),
                        gflops == null ? "" : String.format("%.1f", ((Number) gflops).doubleValue()),
                        fraction == null ? "" : String.format("%.0f%% of %s", 100 * ((Number) fraction).doubleValue(), row.get("ceiling"))));
            }
        }
        return text.toString();
    }

    /** Which BLAS (and OpenMP) the peer's processes had mapped, per distinct answer, with the configurations that had it. */
    static String peerLibraries(List<Map<String, Object>> peers) {
        if (peers.isEmpty()) {
            return "";
        }
        Map<String, java.util.Set<String>> configurations = new java.util.TreeMap<>();
        for (Map<String, Object> peer : peers) {
            String libraries = BenchReport.blasName(peer) + (peer.get("openmp") instanceof List<?> omp && !omp.isEmpty()
                    ? ", OpenMP " + omp.stream().map(o -> o.toString().substring(o.toString().lastIndexOf('/') + 1)).toList() : "");
            configurations.computeIfAbsent(libraries, k -> new java.util.TreeSet<>()).add(String.valueOf(peer.get("config")));
        }
        StringBuilder text = new StringBuilder("PyTorch ").append(peers.getFirst().get("torch")).append(" loaded (read from its /proc/self/maps): ");
        configurations.forEach((libraries, configs) -> text.append(libraries).append(" (").append(String.join(", ", configs)).append("); "));
        text.setLength(text.length() - 2);
        return text.append(".\n\n").toString();
    }
}
