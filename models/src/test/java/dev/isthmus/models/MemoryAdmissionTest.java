package dev.isthmus.models;

import dev.isthmus.cli.bench.StepBenchmark;
import dev.isthmus.device.AvailableMemory;
import dev.isthmus.device.Device;
import dev.isthmus.device.Devices;
import dev.isthmus.device.HostMemory;
import dev.isthmus.nn.InsufficientMemoryException;
import dev.isthmus.nn.MemoryEstimate;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory admission: Model.build adds up what a model needs before allocating and refuses what the
 * machine cannot hold, with a message, instead of being killed by the OOM killer; the estimate is
 * within 15% of the peak a training step reaches, and inference peaks below training.
 */
class MemoryAdmissionTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg-small-bn", "lenet5"})
    void theEstimateIsWithinFifteenPercentOfTheMeasuredTrainingPeak(String name) {
        try (Device device = Devices.cpu(); Model model = Zoo.entry(name).create()) {
            model.build(device, 32, 0);
            MemoryEstimate estimate = model.memoryEstimate();
            StepBenchmark.measure(model, StepBenchmark.Mode.TRAIN, 32, 0.05, 1, 0);
            long peak = device.peakBytes();
            double error = Math.abs(estimate.total() - peak) / (double) peak;
            assertTrue(error <= 0.15, name + ": estimate " + estimate.describe() + " against a measured peak of "
                    + HostMemory.format(peak) + " (" + Math.round(100 * error) + "% off)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg-small-bn", "lenet5"})
    void theInferenceEstimateIsWithinFifteenPercentOfTheMeasuredInferencePeak(String name) {
        long predicted;
        try (Device device = Devices.cpu(); Model model = Zoo.entry(name).create()) {
            model.build(device, 32, 0);
            predicted = model.memoryEstimate().inference();
        }
        try (Device device = Devices.cpu(); Model model = Zoo.entry(name).create().inferenceOnly()) {
            model.build(device, 32, 0);
            MemoryEstimate estimate = model.memoryEstimate();
            assertEquals(predicted, estimate.total(), name + ": the training build's inference estimate is the"
                    + " inference-only build's whole need");
            // The model's own peak: what the device held at its highest, less the batch the test made.
            long batchBytes;
            try (Tensor x = device.fromArray(model.batchShape(32), TestData.uniform(32 * (int) model.sampleShape().elementCount(), 1, 1))) {
                batchBytes = x.byteSize();
                model.forward(x, false);
                model.forward(x, false);
            }
            long peak = device.peakBytes() - batchBytes;
            double error = Math.abs(estimate.total() - peak) / (double) peak;
            assertTrue(error <= 0.15, name + ": estimate " + estimate.describe() + " against a measured inference peak of "
                    + HostMemory.format(peak) + " (" + Math.round(100 * error) + "% off)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg-small-bn"})
    void inferencePeaksBelowTraining(String name) {
        long inference;
        long training;
        try (Device device = Devices.cpu(); Model model = Zoo.entry(name).create()) {
            model.inferenceOnly().build(device, 32, 0);
            StepBenchmark.measure(model, StepBenchmark.Mode.INFER, 32, 0.05, 1, 0);
            inference = device.peakBytes();
        }
        try (Device device = Devices.cpu(); Model model = Zoo.entry(name).create()) {
            model.build(device, 32, 0);
            StepBenchmark.measure(model, StepBenchmark.Mode.TRAIN, 32, 0.05, 1, 0);
            training = device.peakBytes();
        }
        assertTrue(inference < training, name + ": inference peak " + HostMemory.format(inference) + ", training "
                + HostMemory.format(training));
    }

    @Test
    void aBatchTheMachineCannotHoldIsRefusedBeforeAnythingIsAllocated() {
        try (Device device = Devices.cpu(); Model model = Zoo.entry("resnet20").create()) {
            AvailableMemory available = device.memoryAvailable();
            long before = device.liveBytes();
            InsufficientMemoryException refused = assertThrows(InsufficientMemoryException.class,
                    () -> model.build(device, 65_536, 0));
            assertTrue(refused.estimate().total() > available.bytes(), refused.getMessage());
            assertTrue(refused.getMessage().contains("resnet20 needs") && refused.getMessage().contains("available")
                    && refused.getMessage().contains("--batch"), refused.getMessage());
            assertEquals(before, device.liveBytes(), "nothing was allocated for the refused model");
        }
    }

    @Test
    void theCommandLineRefusesWithTheMessageInsteadOfBeingKilled() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = dev.isthmus.cli.Main.run(new String[] {"train", "resnet20", "--batch", "65536", "--data", "synthetic",
            "--synthetic-size", "64", "--epochs", "1"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, status, message);
        assertTrue(message.contains("resnet20 needs") && message.contains("at batch 65536") && message.contains("available"),
                message);
    }

    @Test
    void summaryPrintsTheEstimate() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = dev.isthmus.cli.Main.run(new String[] {"summary", "resnet20", "--batch", "64"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, status);
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("memory to train: ") && text.contains("at batch 64") && text.contains("inference alone"), text);
        assertTrue(text.contains("shared by lifetime"), text);
    }
}
