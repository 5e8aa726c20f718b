package dev.isthmus.cli.bench;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 5's memory contract, as behaviour: once warm, a training step (and an inference pass)
 * allocates no native memory and less than 1 KiB of Java heap, on the models of the canonical suite.
 * The figures are what `isthmus bench` reports as device_allocations and heap_bytes_per_step.
 */
class SteadyStateStepTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"lenet5, TRAIN", "lenet5, INFER", "vgg-small-bn, TRAIN", "resnet20, TRAIN", "resnet20, INFER"})
    void aWarmStepAllocatesNoNativeMemoryAndUnderOneKibOfHeap(String name, StepBenchmark.Mode mode) {
        try (CpuDevice device = new CpuDevice(); Model model = Zoo.entry(name).create()) {
            model.build(device, 16, 0);
            StepBenchmark.Result result = StepBenchmark.measure(model, mode, 16, 0.2, 3, 0);
            assertEquals(0, result.deviceAllocationsPerRun(), name + " " + mode + ": native allocations in warm steps");
            assertTrue(result.heapBytesPerStep() < 1024, name + " " + mode + ": " + result.heapBytesPerStep()
                    + " heap bytes per warm step");
        }
    }
}
