package dev.isthmus.train;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dynamic loss scaling (FP16's GradScaler): a step whose scaled gradients overflow is skipped,
 * leaving the weights and the optimizer state as they were, and the scale backs off; the first
 * step that fits updates exactly as an unscaled step (power-of-two scales are exact); good steps
 * grow the scale; the state survives a checkpoint round trip. Run in F32 on the CPU: the overflow
 * is F32's, which a scale of 2^127 reaches on purpose.
 */
class LossScalerTest {
    private static final int BATCH = 8;

    private static Model tinyModel(CpuDevice device) {
        Model model = new Model("tiny", new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3)), Shape.of(4));
        return model.build(device, BATCH, 11);
    }

    private static DeviceBatch batch(CpuDevice device) {
        float[] x = new float[BATCH * 4];
        int[] labels = new int[BATCH];
        for (int i = 0; i < x.length; i++) {
            // Large inputs: the weight gradient is dy·x, so a huge loss scale overflows F32 there.
            x[i] = (float) (1e4 * Math.sin(i + 1));
        }
        for (int i = 0; i < BATCH; i++) {
            labels[i] = i % 3;
        }
        return new DeviceBatch(device.fromArray(Shape.of(BATCH, 4), x), device.fromInts(Shape.of(BATCH), labels));
    }

    private static float[] weights(Model model) {
        return model.parameterBlock().toFloatArray();
    }

    @Test
    void anOverflowingStepIsSkippedAndTheScaleBacksOffUntilAStepFits() {
        try (CpuDevice device = new CpuDevice(); Model scaled = tinyModel(device); Model reference = tinyModel(device);
             CrossEntropyLoss loss = new CrossEntropyLoss(); CrossEntropyLoss referenceLoss = new CrossEntropyLoss();
             Sgd sgd = new Sgd(scaled.parameters(), 0.1, 0.9, 0, 0, false);
             Sgd referenceSgd = new Sgd(reference.parameters(), 0.1, 0.9, 0, 0, false);
             DeviceBatch data = batch(device)) {
            double initial = Math.scalb(1.0, 127);
            LossScaler scaler = new LossScaler(initial, 2.0, 0.5, 2);
            TrainStep step = new TrainStep(scaled, loss, sgd, 0, scaler);
            float[] before = weights(scaled);

            step.train(data);
            assertEquals(1, scaler.skippedSteps(), "a scale of 2^127 overflows the weight gradient");
            assertEquals(initial / 2, scaler.scale(), "the scale backs off by half");
            assertArrayEquals(before, weights(scaled), "a skipped step leaves the weights alone");
            assertEquals(0, sgd.stepCount(), "a skipped step is not an optimizer step");

            int steps = 1;
            while (scaler.skippedSteps() == steps && steps < 64) {
                step.train(data);
                steps++;
            }
            long skipped = scaler.skippedSteps();
            assertTrue(skipped < steps, "the scale backed off until a step fitted (" + skipped + " skipped of " + steps + ")");
            assertEquals(initial / Math.scalb(1.0, (int) skipped), scaler.scale(), "one halving per skipped step");
            assertEquals(1, sgd.stepCount());

            // The unscaled step from the same weights: the fitted step must be exactly it.
            new TrainStep(reference, referenceLoss, referenceSgd, 0, null).train(data);
            assertArrayEquals(weights(reference), weights(scaled), 1e-6f, "an unscaled step on the same batch");

            LossScaler growing = new LossScaler(1.0, 2.0, 0.5, 2);
            TrainStep small = new TrainStep(reference, referenceLoss, referenceSgd, 0, growing);
            small.train(data);
            assertEquals(1.0, growing.scale(), "one good step: not yet");
            small.train(data);
            assertEquals(2.0, growing.scale(), "after growthInterval (2) good steps the scale doubles");
            assertEquals(0, growing.skippedSteps());
        }
    }

    @Test
    void theStateRoundTripsAndBadStateIsRefused() {
        LossScaler scaler = new LossScaler(1024, 2, 0.5, 3);
        Map<String, Object> state = scaler.state();
        assertEquals(1024.0, state.get("scale"));
        LossScaler restored = new LossScaler();
        restored.restore(state);
        assertEquals(1024.0, restored.scale());
        assertThrows(IllegalArgumentException.class, () -> restored.restore(Map.of("scale", -1.0, "_growth_tracker", 0)));
        assertThrows(IllegalArgumentException.class, () -> new LossScaler(Double.NaN, 2, 0.5, 1));
    }

    @Test
    void fp16ModelsGetAScalerAndOthersDoNot() {
        try (CpuDevice device = new CpuDevice(); Model model = tinyModel(device); CrossEntropyLoss loss = new CrossEntropyLoss();
             Sgd sgd = new Sgd(model.parameters(), 0.1)) {
            assertEquals(null, new TrainStep(model, loss, sgd, 0).lossScaler(), "FP32 needs no loss scaling");
            assertTrue(dev.isthmus.nn.Precision.FP16.needsLossScaling() && !dev.isthmus.nn.Precision.BF16.needsLossScaling());
        }
    }
}
