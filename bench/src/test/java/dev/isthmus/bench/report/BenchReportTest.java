package dev.isthmus.bench.report;

import dev.isthmus.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A report built from fixed figures: the ceilings (SGEMM and BF16 GEMM) as summary rows, each
 * convolution kernel against the ceiling of its precision, and the model rows' GFLOP/s. Expected
 * numbers are worked out by hand in the comments.
 */
class BenchReportTest {
    // SGEMM 512: 2·512³ / 10 ms = 26.84 GFLOP/s. BF16 512: 2·512³ / 5 ms = 53.69; BF16 1024: 2·1024³ / 50 ms = 42.95,
    // so the BF16 ceiling is the 512 one. Convolution 16x16x32 at batch 64: 64·32·32·16·16·9 = 150,994,944
    // multiply-adds: F32 forward in 10,000 µs = 30.20 GFLOP/s = 112.5% of SGEMM; BF16 forward in 20,000 µs =
    // 15.10 GFLOP/s = 28.1% of the BF16 GEMM ceiling (and not 56% of the SGEMM one).
    private static final String JMH = """
            [
              {"benchmark": "dev.isthmus.bench.SgemmBenchmark.openBlas", "params": {"size": "512"},
               "primaryMetric": {"score": 10.5, "scoreUnit": "ms/op", "scorePercentiles": {"50.0": 10.0}}},
              {"benchmark": "dev.isthmus.bench.Bf16GemmBenchmark.onednn", "params": {"size": "512"},
               "primaryMetric": {"score": 5.5, "scoreUnit": "ms/op", "scorePercentiles": {"50.0": 5.0}}},
              {"benchmark": "dev.isthmus.bench.Bf16GemmBenchmark.onednn", "params": {"size": "1024"},
               "primaryMetric": {"score": 52.0, "scoreUnit": "ms/op", "scorePercentiles": {"50.0": 50.0}}},
              {"benchmark": "dev.isthmus.bench.LayerKernelsBenchmark.convolutionForward", "params": {"conv": "16x16x32"},
               "primaryMetric": {"score": 10000.0, "scoreUnit": "us/op"}}
            ]
            """;
    /** A second JMH run, as ci/bench-report --quick makes for the BF16 kernels. */
    private static final String JMH_BF16_KERNELS = """
            [
              {"benchmark": "dev.isthmus.bench.LayerKernelsBenchmark.convolutionForwardBf16", "params": {"conv": "16x16x32"},
               "primaryMetric": {"score": 20000.0, "scoreUnit": "us/op"}}
            ]
            """;

    // LeNet-5 multiply-adds per image: conv1 28·28·6·1·25 = 117,600; conv2 10·10·16·6·25 = 240,000; fc 400·120 +
    // 120·84 + 84·10 = 58,920; in all 416,520, so 833,040 forward FLOPs. Training at 1,000 img/s: 3 × 833,040 × 1,000
    // = 2.50 GFLOP/s = 9.3% of SGEMM; bf16 inference at 10,000 img/s: 8.33 GFLOP/s = 15.5% of the BF16 ceiling.
    private static final String ISTHMUS = """
            {"results": [
              {"model": "lenet5", "mode": "train", "precision": "fp32", "batch": 64, "images_per_s": 1000.0,
               "samples": [990.0, 1000.0, 1010.0], "peak_rss_MiB": 100, "heap_bytes_per_step": 0, "device_allocations": 0},
              {"model": "lenet5", "mode": "infer", "precision": "bf16", "batch": 256, "images_per_s": 10000.0,
               "samples": [9900.0, 10000.0, 10100.0], "peak_rss_MiB": 100, "heap_bytes_per_step": 0, "device_allocations": 0}
            ]}
            """;

    @Test
    void lenet5CountsItsConvolutionAndLinearFlops() {
        assertEquals(2.0 * 416_520, ModelFlops.forwardPerImage("lenet5"));
        assertEquals(3 * 2.0 * 416_520, ModelFlops.perImage("lenet5", "train"));
        assertTrue(Double.isNaN(ModelFlops.forwardPerImage("no-such-model")));
    }

    @Test
    void canonicalModelsHaveTheirPublishedSizes() {
        // Batch norm is not counted: vgg-small-bn costs what vgg-small does.
        assertEquals(ModelFlops.forwardPerImage("vgg-small"), ModelFlops.forwardPerImage("vgg-small-bn"));
        // ResNet-20 on CIFAR: about 41 M multiply-adds per image (He et al. 2016, table 6, with its shortcuts).
        double resnet20 = ModelFlops.forwardPerImage("resnet20") / 2;
        assertTrue(resnet20 > 40e6 && resnet20 < 42e6, "resnet20 multiply-adds " + resnet20);
    }

    @Test
    void reportShowsBothCeilingsAndSetsEachRowAgainstItsPrecision(@TempDir Path dir) throws IOException {
        Path jmh = Files.writeString(dir.resolve("jmh.json"), JMH);
        Path jmhBf16 = Files.writeString(dir.resolve("jmh-bf16.json"), JMH_BF16_KERNELS);
        Path isthmus = Files.writeString(dir.resolve("isthmus.txt"), "RESULT model=lenet5\n" + ISTHMUS.replace("\n", " ") + "\n");
        Path out = dir.resolve("out");
        BenchReport.main(new String[] {"--out", out.toString(), "--isthmus", isthmus.toString(), "--jmh", jmh.toString(),
            jmhBf16.toString(), "--title", "fixed"});
        String report = Files.readString(out.resolve("report.md"));

        assertTrue(report.contains("| SGEMM ceiling (OpenBLAS through FFM, best size) |  |  | 26.8 |  |"), report);
        assertTrue(report.contains("| BF16 GEMM ceiling (oneDNN, best size) |  |  | 53.7 |  |"), report);
        assertTrue(report.contains("| LayerKernelsBenchmark.convolutionForward | {conv=16x16x32} | 10000.000 us/op | 30.2 | 113% of SGEMM |"),
                report);
        assertTrue(report.contains("| LayerKernelsBenchmark.convolutionForwardBf16 | {conv=16x16x32} | 20000.000 us/op | 15.1 | 28% of BF16 GEMM |"),
                report);
        assertFalse(report.contains("56% of"), report);
        assertTrue(report.contains("| lenet5 | train | fp32 | 64 | 1,000 (990–1,010) | 2.5 (9% of SGEMM) |"), report);
        assertTrue(report.contains("| lenet5 | infer | bf16 | 256 | 10,000 (9,900–10,100) | 8.3 (16% of BF16 GEMM) |"), report);

        Map<String, Object> results = Json.parseObject(Files.readString(out.resolve("results.json")));
        List<?> rows = (List<?>) results.get("isthmus");
        Map<String, Object> bf16 = BenchReport.cast(rows.get(1));
        assertEquals(8.3304, ((Number) bf16.get("gflops")).doubleValue(), 1e-9);
        assertEquals(8.3304 / 53.6870912, ((Number) bf16.get("fraction_of_ceiling")).doubleValue(), 1e-9);
        Map<String, Object> ceiling = BenchReport.cast(((List<?>) results.get("jmh")).getLast());
        assertEquals("BF16 GEMM ceiling (oneDNN, best size)", ceiling.get("benchmark"));
    }

    @Test
    void withoutBf16FiguresThereIsNoBf16CeilingAndBf16RowsHaveNoShare(@TempDir Path dir) throws IOException {
        Path jmh = Files.writeString(dir.resolve("jmh.json"), """
                [{"benchmark": "dev.isthmus.bench.SgemmBenchmark.openBlas", "params": {"size": "512"},
                  "primaryMetric": {"score": 10.5, "scoreUnit": "ms/op", "scorePercentiles": {"50.0": 10.0}}}]
                """);
        Path isthmus = Files.writeString(dir.resolve("isthmus.txt"), ISTHMUS.replace("\n", " ") + "\n");
        Path out = dir.resolve("out");
        BenchReport.main(new String[] {"--out", out.toString(), "--isthmus", isthmus.toString(), "--jmh", jmh.toString()});
        String report = Files.readString(out.resolve("report.md"));
        assertFalse(report.contains("BF16 GEMM ceiling (oneDNN"), report);
        assertTrue(report.contains("| 8.3 |"), report);
        assertTrue(report.contains("| 2.5 (9% of SGEMM) |"), report);
    }
}
