package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.MemoryEstimate;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Precision;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model built for inference only ({@link Model#inferenceOnly()}) shares its per-batch memory
 * between layers by lifetime: it computes exactly what the model built for training computes in
 * eval mode, holds strictly less device memory, and refuses backward.
 */
class InferenceMemoryTest {
    private static final int BATCH = 8;

    @ParameterizedTest
    @CsvSource({"lenet5, ONEDNN", "vgg-small-bn, ONEDNN", "resnet20, ONEDNN", "lenet5, OPENBLAS", "vgg-small-bn, OPENBLAS",
        "resnet20, OPENBLAS"})
    void theSharedPlanGivesTheLogitsOfTheUnsharedOne(String name, CpuBackend backend) {
        try (CpuDevice device = open(backend);
             Model training = Zoo.entry(name).create().build(device, BATCH, 7);
             Model inference = Zoo.entry(name).create().inferenceOnly().build(device, BATCH, 7)) {
            int sample = (int) training.sampleShape().elementCount();
            for (int round = 0; round < 3; round++) {
                // Round 2 is a partial batch: the shared block is planned again for the new size.
                int batch = round == 2 ? 3 : BATCH;
                try (Tensor x = device.fromArray(training.batchShape(batch), TestData.uniform(batch * sample, 1, round))) {
                    float[] expected = training.forward(x, false).toFloatArray();
                    float[] actual = inference.forward(x, false).toFloatArray();
                    assertEquals(expected.length, actual.length);
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], actual[i], 1e-6, name + " on " + backend + ", round " + round + ", logit " + i);
                    }
                }
            }
        }
    }

    /** BF16 adds each convolution's and linear layer's 16-bit input copy: scratch of its own step. */
    @ParameterizedTest
    @ValueSource(strings = {"vgg-small-bn", "resnet20"})
    void theSharedPlanGivesTheLogitsOfTheUnsharedOneInBf16(String name) {
        try (CpuDevice device = new CpuDevice(2);
             Model training = Zoo.entry(name).create().precision(Precision.BF16);
             Model inference = Zoo.entry(name).create().precision(Precision.BF16).inferenceOnly()) {
            try {
                training.build(device, BATCH, 7);
            } catch (UnsupportedOperationException noBf16) {
                Assumptions.abort(noBf16.getMessage());
            }
            inference.build(device, BATCH, 7);
            int sample = (int) training.sampleShape().elementCount();
            try (Tensor x = device.fromArray(training.batchShape(BATCH), TestData.uniform(BATCH * sample, 1, 5))) {
                float[] expected = training.forward(x, false).toFloatArray();
                float[] actual = inference.forward(x, false).toFloatArray();
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], actual[i], 1e-6, name + " in BF16, logit " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "vgg-small-bn", "resnet20"})
    void inferenceHoldsStrictlyLessThanTrainingAndThanTheUnsharedEvalPath(String name) {
        long shared = peakOf(name, true, false);
        long unshared = peakOf(name, false, false);
        long training = peakOf(name, false, true);
        assertTrue(shared < unshared && shared < training, name + ": peak device bytes, inference-only " + shared
                + ", eval on the training build " + unshared + ", a training step " + training);
    }

    /** A chain holds two activations at a time, a residual block three (its input until the addition), plus scratch. */
    @ParameterizedTest
    @CsvSource({"lenet5, 2", "vgg-small-bn, 2", "resnet20, 3"})
    void theSharedBlockHoldsTwoActivationsOrThreeWithResidualBlocks(String name, int activations) {
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry(name).create().inferenceOnly().build(device, 32, 0)) {
            MemoryEstimate estimate = model.memoryEstimate();
            long block = estimate.inferenceActivations();
            long least = model.inferencePeakLiveBytes();
            long largest = 0;
            for (Layer layer : model.leaves().values()) {
                largest = Math.max(largest, Math.max(layer.inputShape().elementCount(), layer.outputShape().elementCount()) * 4);
            }
            // The scratch (oneDNN workspaces, per-channel statistics) is small beside an activation here.
            assertTrue(block >= (activations - 1) * largest && block <= activations * largest * 1.02, name + ": shared block "
                    + block + " bytes for a largest activation of " + largest);
            assertEquals(estimate.total(), estimate.inference(), name + ": an inference-only model needs its inference estimate");
            assertEquals(0, estimate.gradients() + estimate.inputGradients() + estimate.optimizerState(), estimate.describe());
            assertTrue(block >= least && block <= least * 1.10, name + ": shared block " + block + " bytes, the largest"
                    + " live set " + least);
        }
    }

    @Test
    void closingAnInferenceOnlyModelFreesAllItsMemory() {
        try (CpuDevice device = new CpuDevice(2)) {
            long before = device.liveBytes();
            try (Model model = Zoo.entry("resnet20").create().inferenceOnly().build(device, 4, 0);
                 Tensor x = device.fromArray(model.batchShape(4), TestData.uniform(4 * 3 * 32 * 32, 1, 1));
                 Tensor partial = device.fromArray(model.batchShape(3), TestData.uniform(3 * 3 * 32 * 32, 1, 2))) {
                model.forward(x, false);
                model.forward(partial, false);
                model.forward(x, false);
            }
            assertEquals(before, device.liveBytes(), "native bytes after the model closed");
        }
    }

    @Test
    void backwardAndTrainingForwardsAreRefusedWithTheReason() {
        try (CpuDevice device = new CpuDevice(2);
             Model model = Zoo.entry("resnet20").create().inferenceOnly().build(device, 2, 0);
             Tensor x = device.fromArray(model.batchShape(2), TestData.uniform(2 * 3 * 32 * 32, 1, 1));
             CrossEntropyLoss loss = new CrossEntropyLoss();
             Tensor labels = device.fromInts(Shape.of(2), TestData.labels(2, 10, 3))) {
            loss.forward(model.forward(x, false), labels, true);
            IllegalStateException backward = assertThrows(IllegalStateException.class, () -> model.backward(loss.backward()));
            assertTrue(backward.getMessage().contains("resnet20 was built for inference only"), backward.getMessage());
            IllegalStateException train = assertThrows(IllegalStateException.class, () -> model.forward(x, true));
            assertTrue(train.getMessage().contains("inference only"), train.getMessage());
            Layer first = model.leaves().values().iterator().next();
            IllegalStateException layer = assertThrows(IllegalStateException.class,
                    () -> model.root().backward(loss.backward()));
            assertTrue(layer.getMessage().contains("inference only"), layer.getMessage());
            assertThrows(IllegalStateException.class, () -> first.forward(x, true));
            IllegalStateException gradient = assertThrows(IllegalStateException.class,
                    () -> model.parameters().get(0).grad().toFloatArray());
            assertTrue(gradient.getMessage().contains("planned but not allocated"), gradient.getMessage());
            // The model still answers after the refusals.
            assertEquals(20, model.forward(x, false).elementCount());
        }
        try (Model model = Zoo.entry("lenet5").create()) {
            model.computeInputGradient(true);
            assertThrows(IllegalStateException.class, model::inferenceOnly);
        }
    }

    /** Peak device bytes of a fresh device that builds {@code name} and runs two steps at batch 32. */
    private static long peakOf(String name, boolean inferenceOnly, boolean train) {
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry(name).create()) {
            if (inferenceOnly) {
                model.inferenceOnly();
            }
            model.build(device, 32, 0);
            int sample = (int) model.sampleShape().elementCount();
            try (Tensor x = device.fromArray(model.batchShape(32), TestData.uniform(32 * sample, 1, 1));
                 Tensor labels = device.fromInts(Shape.of(32), TestData.labels(32, 10, 2));
                 CrossEntropyLoss loss = new CrossEntropyLoss()) {
                for (int step = 0; step < 2; step++) {
                    if (train) {
                        try (Sgd sgd = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false)) {
                            sgd.zeroGrad();
                            loss.forward(model.forward(x, true), labels, true);
                            model.backward(loss.backward());
                            sgd.step();
                        }
                    } else {
                        model.forward(x, false);
                    }
                }
            }
            return device.peakBytes();
        }
    }

    private static CpuDevice open(CpuBackend backend) {
        try {
            return new CpuDevice(2, backend);
        } catch (IllegalStateException unavailable) {
            Assumptions.abort(unavailable.getMessage());
            throw unavailable;
        }
    }
}
