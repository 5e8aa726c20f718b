package dev.isthmus.cli;

import dev.isthmus.cli.bench.StepBenchmark;
import dev.isthmus.device.cpu.OpenBlas;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code isthmus bench --layers}: a training step taken apart, convolutions against OpenBLAS's SGEMM. */
final class LayerBreakdown {
    private LayerBreakdown() {
    }

    static Map<String, Object> print(Model model, int batch, int steps, long seed, PrintStream out) {
        StepBenchmark.Breakdown breakdown = StepBenchmark.profile(model, batch, steps, seed);
        Map<String, Layer> leaves = model.leaves();
        Map<String, Double> sgemmCache = new HashMap<>();
        out.printf("%s, batch %d, %d profiled steps: %.2f ms per step%n", model.name(), batch, steps, breakdown.stepMs());
        out.printf("%-26s %9s %9s %9s %9s   %-28s %s%n", "layer", "fwd ms", "bwd-d ms", "bwd-f ms", "bwd ms",
                "GFLOP/s fwd / bwd-d / bwd-f", "vs SGEMM (same size)");
        List<Object> rows = new ArrayList<>();
        for (StepBenchmark.LayerTime row : breakdown.layers()) {
            String gflops = "";
            String versus = "";
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", row.name());
            json.put("layer", row.layer());
            json.put("forward_ms", row.forwardMs());
            json.put("backward_data_ms", row.backwardDataMs());
            json.put("backward_filter_ms", row.backwardFilterMs());
            json.put("backward_ms", row.otherBackwardMs());
            if (row.multiplyAdds() > 0 && leaves.get(row.name()) instanceof Conv2d conv) {
                var g = conv.geometry();
                int m = g.outChannels() / g.groups();
                int n = g.batch() * g.outHeight() * g.outWidth();
                int k = g.inChannels() / g.groups() * g.kernelHeight() * g.kernelWidth();
                double sgemm = sgemmCache.computeIfAbsent(m + "x" + n + "x" + k, key -> sgemmGflops(m, n, k));
                gflops = String.format("%6.1f / %6.1f / %6.1f", row.gflopsForward(), row.gflopsBackwardData(),
                        row.gflopsBackwardFilter());
                double worst = Math.min(row.gflopsForward(), Math.min(
                        row.gflopsBackwardData() > 0 ? row.gflopsBackwardData() : Double.MAX_VALUE, row.gflopsBackwardFilter()));
                versus = String.format("SGEMM %dx%dx%d %.1f GFLOP/s: fwd %.0f%%, worst %.0f%%", m, n, k, sgemm,
                        100 * row.gflopsForward() / sgemm, 100 * worst / sgemm);
                json.put("gflops_forward", row.gflopsForward());
                json.put("gflops_backward_data", row.gflopsBackwardData());
                json.put("gflops_backward_filter", row.gflopsBackwardFilter());
                json.put("sgemm_gflops", sgemm);
                json.put("fraction_of_sgemm_forward", row.gflopsForward() / sgemm);
                json.put("fraction_of_sgemm_worst", worst / sgemm);
            }
            out.printf("%-26s %9.3f %9.3f %9.3f %9.3f   %-28s %s%n", row.name(), row.forwardMs(), row.backwardDataMs(),
                    row.backwardFilterMs(), row.otherBackwardMs(), gflops, versus);
            rows.add(json);
        }
        out.printf("%-26s %9.3f%n%-26s %9.3f%n%-26s %9.3f%n", "loss", breakdown.lossMs(), "optimizer", breakdown.optimizerMs(),
                "batch copy", breakdown.copyMs());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", model.name());
        result.put("batch", batch);
        result.put("step_ms", breakdown.stepMs());
        result.put("loss_ms", breakdown.lossMs());
        result.put("optimizer_ms", breakdown.optimizerMs());
        result.put("copy_ms", breakdown.copyMs());
        result.put("layers", rows);
        return result;
    }

    /** OpenBLAS's own SGEMM rate on an m x k by k x n product, median of a few runs. */
    static double sgemmGflops(int m, int n, int k) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate((long) m * k * Float.BYTES, 64);
            MemorySegment b = arena.allocate((long) k * n * Float.BYTES, 64);
            MemorySegment c = arena.allocate((long) m * n * Float.BYTES, 64);
            for (int warm = 0; warm < 3; warm++) {
                OpenBlas.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
            }
            double[] rates = new double[7];
            for (int r = 0; r < rates.length; r++) {
                long t = System.nanoTime();
                int repeats = 0;
                do {
                    OpenBlas.sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
                    repeats++;
                } while (System.nanoTime() - t < 20_000_000L);
                rates[r] = 2.0 * m * n * k * repeats / ((System.nanoTime() - t) / 1e9) / 1e9;
            }
            java.util.Arrays.sort(rates);
            return rates[rates.length / 2];
        }
    }
}
