package dev.isthmus.models;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.nn.Precision;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole models under the BF16 policy against the same models in FP32, from the same parameters
 * and batch, through every layer kind of the zoo (convolutions, linear layers, batch norm,
 * pooling, activations, residual additions). The forward stays within the documented BF16
 * tolerance: loss and logits within a relative error of 1e-2 (2-norm). Gradients cannot be held
 * to that element by element, in PyTorch's autocast no more than here: a ReLU's mask flips
 * wherever a pre-activation lies within BF16 rounding (about 2^-9 of the terms it sums) of zero,
 * and each flipped element moves by its whole gradient, so a few per thousand flips give a
 * relative 2-norm error of several percent (make_fixtures_bf16.py's per-layer fixtures, where
 * nothing flips, hold each layer to autocast's exact numbers and to 1e-2 of FP32). A simulation
 * of this policy in PyTorch (BF16-rounded operands in float64) on LeNet-5 at initialisation gives
 * 4–20% on the convolution gradients. So every gradient must point the same way as FP32's (cosine
 * similarity at least 0.8) and parameters and gradients stay F32.
 */
class MixedPrecisionModelTest {
    private static final double BF16_RELATIVE = 1e-2;
    private static final double MIN_GRADIENT_COSINE = 0.8;

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "vgg-small-bn", "resnet20", "mlp"})
    void bf16StaysWithinTheDocumentedToleranceOfFp32(String name) {
        try (CpuDevice device = new CpuDevice()) {
            String unsupported = device.lowPrecisionSupport(DType.BF16);
            Assumptions.assumeTrue(unsupported == null, "BF16 is not offered on this CPU: " + unsupported);
            try (Model fp32 = Zoo.entry(name).create(); Model bf16 = Zoo.entry(name).create().precision(Precision.BF16);
                 CrossEntropyLoss loss32 = new CrossEntropyLoss(); CrossEntropyLoss loss16 = new CrossEntropyLoss()) {
                int batch = 8;
                fp32.build(device, batch, 7);
                bf16.build(device, batch, 7);
                Shape inputShape = fp32.batchShape(batch);
                SplittableRandom random = new SplittableRandom(3);
                float[] pixels = new float[Math.toIntExact(inputShape.elementCount())];
                for (int i = 0; i < pixels.length; i++) {
                    pixels[i] = (float) random.nextDouble();
                }
                int classes = fp32.root().outputShape().dim(1);
                int[] labels = new int[batch];
                for (int i = 0; i < batch; i++) {
                    labels[i] = random.nextInt(classes);
                }
                try (Tensor x = device.fromArray(inputShape, pixels); Tensor y = device.fromInts(Shape.of(batch), labels)) {
                    float lossFp32 = step(fp32, loss32, x, y);
                    float lossBf16 = step(bf16, loss16, x, y);
                    assertEquals(lossFp32, lossBf16, BF16_RELATIVE * Math.abs(lossFp32), name + " loss");
                    assertNear(name + " logits", fp32.root().lastOutput().toFloatArray(), bf16.root().lastOutput().toFloatArray());
                    List<Parameter> expected = fp32.parameters();
                    List<Parameter> actual = bf16.parameters();
                    assertEquals(expected.size(), actual.size());
                    double largest = 0;
                    for (Parameter parameter : expected) {
                        largest = Math.max(largest, norm(parameter.grad().toFloatArray()));
                    }
                    for (int i = 0; i < expected.size(); i++) {
                        Parameter parameter = actual.get(i);
                        float[] fp32Gradient = expected.get(i).grad().toFloatArray();
                        if (norm(fp32Gradient) < 1e-3 * largest) {
                            // Zero in exact arithmetic (a convolution's bias before batch norm, which
                            // subtracts it again): both are rounding noise; BF16's must stay small too.
                            double noise = norm(parameter.grad().toFloatArray());
                            assertTrue(noise < 1e-2 * largest, name + " " + parameter.name() + ": a gradient FP32 finds"
                                    + " zero has norm " + noise + " in BF16, against " + largest + " for the largest");
                            continue;
                        }
                        assertEquals(DType.F32, parameter.value().dtype(), "master weights stay F32");
                        assertEquals(DType.F32, parameter.grad().dtype(), "gradients accumulate in F32");
                        assertSameDirection(name + " " + parameter.name() + " gradient", fp32Gradient,
                                parameter.grad().toFloatArray());
                    }
                }
            }
        }
    }

    /**
     * Checkpoints stay F32 PyTorch state_dicts: a model trained in BF16 saves F32 tensors, and they
     * load into an FP32 and a BF16 model, whose eval-mode logits agree within the BF16 tolerance.
     */
    @org.junit.jupiter.api.Test
    void aBf16TrainedModelSavesF32AndEvaluatesInFp32AndBf16(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder)
            throws java.io.IOException {
        try (CpuDevice device = new CpuDevice()) {
            String unsupported = device.lowPrecisionSupport(DType.BF16);
            Assumptions.assumeTrue(unsupported == null, "BF16 is not offered on this CPU: " + unsupported);
            java.nio.file.Path file = folder.resolve("bf16.safetensors");
            int batch = 8;
            SplittableRandom random = new SplittableRandom(5);
            try (Model trained = Zoo.entry("vgg-small-bn").create().precision(Precision.BF16);
                 CrossEntropyLoss loss = new CrossEntropyLoss()) {
                trained.build(device, batch, 3);
                try (dev.isthmus.optim.Sgd sgd = new dev.isthmus.optim.Sgd(trained.parameters(), 0.05, 0.9, 0, 0, false);
                     dev.isthmus.train.TrainStep step = new dev.isthmus.train.TrainStep(trained, loss, sgd, 0)) {
                    assertEquals(null, step.lossScaler(), "BF16 needs no loss scaling");
                    for (int i = 0; i < 3; i++) {
                        try (dev.isthmus.train.DeviceBatch data = randomBatch(device, trained, batch, random)) {
                            step.train(data);
                        }
                    }
                }
                dev.isthmus.io.Checkpoint.save(file, trained, null, null);
            }
            try (dev.isthmus.io.SafeTensors saved = dev.isthmus.io.SafeTensors.open(file)) {
                for (String key : new String[] {"features.0.weight", "features.1.running_mean", "classifier.0.weight"}) {
                    assertEquals("F32", saved.entry(key).dtype(), key + " is saved in F32");
                }
            }
            try (Model fp32 = Zoo.entry("vgg-small-bn").create(); Model bf16 = Zoo.entry("vgg-small-bn").create().precision(Precision.BF16);
                 dev.isthmus.train.DeviceBatch data = randomBatch(device, fp32, batch, random)) {
                fp32.build(device, batch, 0);
                bf16.build(device, batch, 0);
                dev.isthmus.io.Checkpoint.load(file, fp32, null);
                dev.isthmus.io.Checkpoint.load(file, bf16, null);
                float[] expected = fp32.forward(data.input(), false).toFloatArray();
                float[] actual = bf16.forward(data.input(), false).toFloatArray();
                assertNear("eval logits of the BF16-trained checkpoint, BF16 against FP32", expected, actual);
            }
        }
    }

    /** A BF16 model, its plans and its conversion buffers give all their memory back when closed. */
    @org.junit.jupiter.api.Test
    void closingBf16ModelsLeavesNoNativeMemory() {
        try (CpuDevice device = new CpuDevice()) {
            String unsupported = device.lowPrecisionSupport(DType.BF16);
            Assumptions.assumeTrue(unsupported == null, "BF16 is not offered on this CPU: " + unsupported);
            SplittableRandom random = new SplittableRandom(9);
            long before = -1;
            for (int round = 0; round < 3; round++) {
                try (Model model = Zoo.entry("resnet20").create().precision(Precision.BF16).build(device, 4, round);
                     CrossEntropyLoss loss = new CrossEntropyLoss();
                     dev.isthmus.optim.Sgd sgd = new dev.isthmus.optim.Sgd(model.parameters(), 0.01);
                     dev.isthmus.train.DeviceBatch data = randomBatch(device, model, 4, random)) {
                    try (dev.isthmus.train.TrainStep step = new dev.isthmus.train.TrainStep(model, loss, sgd, 0)) {
                        step.train(data);
                        step.train(data);
                    }
                }
                if (round == 0) {
                    // The first round also made the device's lasting conversion primitives and scratch.
                    before = device.liveBytes();
                } else {
                    assertEquals(before, device.liveBytes(), "native bytes after closing BF16 model " + round);
                }
            }
        }
    }

    private static dev.isthmus.train.DeviceBatch randomBatch(CpuDevice device, Model model, int batch, SplittableRandom random) {
        Shape shape = model.batchShape(batch);
        float[] pixels = new float[Math.toIntExact(shape.elementCount())];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextDouble();
        }
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = random.nextInt(10);
        }
        return new dev.isthmus.train.DeviceBatch(device.fromArray(shape, pixels), device.fromInts(Shape.of(batch), labels));
    }

    private static float step(Model model, CrossEntropyLoss loss, Tensor x, Tensor y) {
        for (Parameter parameter : model.parameters()) {
            model.device().elementwise().fill(parameter.grad(), 0f);
        }
        Tensor logits = model.forward(x, true);
        float value = loss.forward(logits, y, true).item();
        model.backward(loss.backward());
        return value;
    }

    private static double norm(float[] values) {
        double squares = 0;
        for (float value : values) {
            squares += (double) value * value;
        }
        return Math.sqrt(squares);
    }

    private static void assertSameDirection(String what, float[] expected, float[] actual) {
        double dot = 0;
        double expectedNorm = 0;
        double actualNorm = 0;
        for (int i = 0; i < expected.length; i++) {
            dot += (double) expected[i] * actual[i];
            expectedNorm += (double) expected[i] * expected[i];
            actualNorm += (double) actual[i] * actual[i];
        }
        double cosine = dot / Math.sqrt(Math.max(expectedNorm * actualNorm, 1e-60));
        assertTrue(cosine >= MIN_GRADIENT_COSINE, what + ": cosine similarity to FP32 " + cosine + " < " + MIN_GRADIENT_COSINE);
    }

    private static void assertNear(String what, float[] expected, float[] actual) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += Math.pow((double) actual[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        double error = Math.sqrt(difference / Math.max(norm, 1e-30));
        assertTrue(error <= BF16_RELATIVE, what + ": BF16 is " + error + " from FP32 (relative, 2-norm), over " + BF16_RELATIVE);
    }
}
