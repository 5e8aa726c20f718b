package dev.isthmus.cli;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static dev.isthmus.cli.CommandLineTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --precision on the command line: BF16 training whose checkpoint evaluates in FP32 and BF16, refusals, bad values. */
class PrecisionCommandLineTest {
    @TempDir
    Path folder;

    @Test
    void bf16TrainsAndItsCheckpointEvaluatesInFp32AndBf16() {
        try (CpuDevice cpu = new CpuDevice()) {
            Assumptions.assumeTrue(cpu.lowPrecisionSupport(DType.BF16) == null, "BF16 not offered here");
        }
        Path checkpoint = folder.resolve("mlp-bf16.safetensors");
        CommandLineTest.Run train = run("train", "mlp", "--data", "synthetic", "--synthetic-size", "1024", "--epochs", "2",
                "--batch", "32", "--lr", "0.05", "--precision", "bf16", "--checkpoint", checkpoint.toString(), "--json");
        assertEquals(0, train.status(), train.err());
        assertEquals("bf16", train.json().get("precision"));
        assertTrue(train.out().contains("avx512_core_bf16") || train.out().contains("amx"), train.out());
        double trained = ((Number) train.json().get("test_accuracy")).doubleValue();
        assertTrue(trained > 0.5, train.out());
        for (String precision : new String[] {"fp32", "bf16"}) {
            CommandLineTest.Run eval = run("eval", "mlp", "--data", "synthetic", "--synthetic-size", "1024", "--checkpoint",
                    checkpoint.toString(), "--precision", precision, "--json");
            assertEquals(0, eval.status(), eval.err());
            assertEquals(trained, ((Number) eval.json().get("test_accuracy")).doubleValue(), 0.02, precision + " evaluation");
        }
    }

    @Test
    void fp16OnTheCpuStopsWithTheReasonAndABadValueIsUsage() {
        CommandLineTest.Run fp16 = run("train", "mlp", "--data", "synthetic", "--epochs", "1", "--precision", "fp16");
        assertEquals(1, fp16.status(), fp16.out());
        assertEquals(1, fp16.err().lines().count(), fp16.err());
        assertTrue(fp16.err().contains("F16") && fp16.err().contains("GPU"), fp16.err());
        CommandLineTest.Run bad = run("bench", "lenet5", "--precision", "fp8");
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--precision"), bad.err());
    }

    @Test
    void infoNamesTheConvolutionKernelsOfEachPrecision() {
        CommandLineTest.Run info = run("info", "--json");
        assertEquals(0, info.status(), info.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> precision = (Map<String, Object>) info.json().get("cpu_precision");
        assertTrue(precision.containsKey("fp32") && precision.containsKey("bf16") && precision.containsKey("bf16_offered"),
                precision.toString());
    }
}
