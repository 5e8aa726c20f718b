package dev.isthmus.bench.report;

import java.util.List;
import java.util.Map;

/** The report's Markdown: the canonical-suite table, memory, and the JMH kernels. */
final class Markdown {
    private Markdown() {
    }

    static String table(List<BenchReport.Row> rows) {
        StringBuilder text = new StringBuilder();
        text.append("| model | mode | batch | Isthmus img/s (spread) | PyTorch img/s (spread, threads) | ratio | peak RSS MiB (Isthmus / PyTorch) | heap B/step | vs previous |\n");
        text.append("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (BenchReport.Row r : rows) {
            String previous = r.previous() == null ? "" : String.format("%+.0f%%%s", 100 * (r.isthmus() / r.previous() - 1),
                    r.regressed() ? " **slower**" : "");
            text.append(String.format("| %s | %s | %d | %,.0f (%,.0f–%,.0f) | %s | %s | %s / %s | %d | %s |%n", r.model(), r.mode(),
                    r.batch(), r.isthmus(), r.isthmusMin(), r.isthmusMax(),
                    r.torch() > 0 ? String.format("%,.0f (%,.0f–%,.0f, %d)", r.torch(), r.torchMin(), r.torchMax(), r.torchThreads()) : "not run",
                    r.torch() > 0 ? String.format("**%.2f**", r.ratio()) : "–", r.isthmusRss(), r.torchRss() >= 0 ? r.torchRss() : "–",
                    r.heapBytes(), previous));
        }
        return text.toString();
    }

    static String render(String title, List<BenchReport.Row> rows, List<Map<String, Object>> jmh) {
        StringBuilder text = new StringBuilder("# ").append(title).append("\n\n");
        text.append("Images per second of a training step (forward, cross-entropy, backward, SGD-momentum update) at the ")
                .append("training batch and of inference (eval-mode forward) at the inference batch, float32, random data, ")
                .append("median of the runs with the slowest and fastest in brackets. PyTorch is Debian's python3-torch ")
                .append("measured by shared/peers/torch_bench.py in the same sitting, with 1 and with 2 threads; the faster ")
                .append("counts. Ratio = Isthmus / PyTorch. Peak RSS is each process's own high-water mark, one process per ")
                .append("model on each side. Heap B/step is what a steady-state step allocates on the Java heap.\n\n");
        text.append(table(rows)).append("\n![ratios](chart.png)\n\n");
        if (!jmh.isEmpty()) {
            text.append("## Kernels (JMH)\n\n| benchmark | parameters | score | GFLOP/s | of SGEMM ceiling |\n|---|---|---:|---:|---:|\n");
            for (Map<String, Object> row : jmh) {
                Object score = row.get("score");
                Object gflops = row.get("gflops");
                Object fraction = row.get("fraction_of_sgemm");
                text.append(String.format("| %s | %s | %s | %s | %s |%n", row.get("benchmark"),
                        row.get("params") == null ? "" : row.get("params"),
                        score == null ? "" : String.format("%.3f %s", ((Number) score).doubleValue(), row.get("unit")),
                        gflops == null ? "" : String.format("%.1f", ((Number) gflops).doubleValue()),
                        fraction == null ? "" : String.format("%.0f%%", 100 * ((Number) fraction).doubleValue())));
            }
        }
        return text.toString();
    }
}
