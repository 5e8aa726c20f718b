package dev.isthmus.cli.bench;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Precision;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 5's memory contract, as behaviour: once warm, a training step (and an inference pass)
 * allocates no native memory and less than 1 KiB of Java heap, on the models of the canonical suite,
 * in FP32 and under the BF16 mixed-precision policy (whose conversions are planned buffers too).
 * The figures are what `isthmus bench` reports as device_allocations and heap_bytes_per_step.
 */
class SteadyStateStepTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"lenet5, TRAIN, FP32", "lenet5, INFER, FP32", "vgg-small-bn, TRAIN, FP32", "resnet20, TRAIN, FP32",
        "resnet20, INFER, FP32", "lenet5, TRAIN, BF16", "vgg-small-bn, TRAIN, BF16", "resnet20, TRAIN, BF16",
        "resnet20, INFER, BF16"})
    void aWarmStepAllocatesNoNativeMemoryAndUnderOneKibOfHeap(String name, StepBenchmark.Mode mode, Precision precision) {
        try (CpuDevice device = new CpuDevice(); Model model = Zoo.entry(name).create()) {
            String unsupported = device.lowPrecisionSupport(precision.operandType());
            Assumptions.assumeTrue(unsupported == null, precision + " is not offered here: " + unsupported);
            model.precision(precision).build(device, 16, 0);
            StepBenchmark.Result result = StepBenchmark.measure(model, mode, 16, 0.2, 3, 0);
            assertEquals(0, result.deviceAllocationsPerRun(), name + " " + mode + ": native allocations in warm steps");
            assertTrue(result.heapBytesPerStep() < 1024, name + " " + mode + ": " + result.heapBytesPerStep()
                    + " heap bytes per warm step");
        }
    }
}
