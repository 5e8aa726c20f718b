package dev.isthmus.train;

import dev.isthmus.data.Datasets;
import dev.isthmus.data.ShapesSegmentation;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.metric.DiceScore;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Adam;
import dev.isthmus.optim.LrSchedule;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * unet-small through the {@link Trainer} on {@link ShapesSegmentation}: per-pixel cross-entropy,
 * pixel accuracy and Dice counted on the device; and the refusal of a dataset whose labels do not fit
 * the model's output, both ways, before anything reaches the device.
 */
class SegmentationTrainingTest {
    private static final int SIDE = 32;
    private static CpuDevice device;

    @BeforeAll
    static void open() {
        device = new CpuDevice(2);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /**
     * UNetTest's former recipe, through the trainer: the zoo's unet-small (depth 3, width 8, batch
     * norm), Adam at 3e-3 for 3 epochs, 1e-3 for 2, 3e-4 for the last, 512 training images of 32x32
     * shapes in batches of 8, shuffled; mean foreground Dice on 128 held-out images. The trainer's
     * device-counted Dice and pixel accuracy are checked against DiceScore on the host's logits.
     */
    @Test
    void unetSmallLearnsTheShapesThroughTheTrainer() {
        int batch = 8;
        ShapesSegmentation train = new ShapesSegmentation(1, SIDE, 512, 7, 0);
        ShapesSegmentation test = new ShapesSegmentation(1, SIDE, 128, 7, 1L << 40);
        LrSchedule schedule = (base, epoch) -> epoch < 3 ? base : epoch < 5 ? base / 3 : base / 10;
        TrainingConfig config = new TrainingConfig(6, batch, 0, schedule, 0, 0, null, 5, Progress.SILENT, null, null);
        long started = System.nanoTime();
        try (Model model = Zoo.entry("unet-small").create().build(device, batch, 0);
             CrossEntropyLoss loss = new CrossEntropyLoss();
             Adam adam = new Adam(model.parameters(), 3e-3, 0.9, 0.999, 1e-8, 0, false);
             Trainer trainer = new Trainer(model, loss, adam, config)) {
            List<EpochResult> epochs = trainer.fit(train, null);
            assertEquals(6, epochs.size());
            assertTrue(epochs.getLast().trainLoss() < epochs.getFirst().trainLoss(), epochs.toString());
            assertTrue(epochs.getLast().hasDice() && epochs.getLast().trainAccuracy() > 0.9, epochs.getLast().toString());
            Evaluation held = trainer.evaluate(test);
            double seconds = (System.nanoTime() - started) / 1e9;
            assertEquals(128, held.samples());
            assertTrue(held.dice() >= 0.9, "held-out Dice " + held.dice() + " after " + seconds + " s: " + held);

            DiceScore reference = new DiceScore(ShapesSegmentation.CLASSES);
            long correct = 0;
            float[] images = new float[batch * SIDE * SIDE];
            int[] masks = new int[batch * SIDE * SIDE];
            for (int first = 0; first < test.size(); first += batch) {
                for (int i = 0; i < batch; i++) {
                    test.read(first + i, MemorySegment.ofArray(images), (long) i * SIDE * SIDE);
                    test.readMask(first + i, MemorySegment.ofArray(masks), (long) i * SIDE * SIDE);
                }
                try (Tensor x = device.fromArray(Shape.of(batch, 1, SIDE, SIDE), images);
                     Tensor y = device.fromInts(Shape.of(batch, SIDE, SIDE), masks)) {
                    Tensor logits = model.forward(x, false);
                    reference.update(logits, y);
                    int[] predicted = DiceScore.argmax(logits.toFloatArray(), batch, ShapesSegmentation.CLASSES);
                    for (int p = 0; p < masks.length; p++) {
                        correct += predicted[p] == masks[p] ? 1 : 0;
                    }
                }
            }
            assertEquals(reference.mean(), held.dice(), 1e-12, "device-counted Dice against DiceScore");
            assertEquals((double) correct / (test.size() * SIDE * SIDE), held.accuracy(), 1e-12, "pixel accuracy");
            System.out.printf("unet-small through the trainer: held-out Dice %.4f, pixel accuracy %.2f%% in %.1f s%n",
                    held.dice(), 100 * held.accuracy(), seconds);
        }
    }

    @Test
    void aSegmentationModelRefusesOneClassPerImageNamingBothShapes() {
        Datasets.Split images = Datasets.synthetic(Shape.of(1, SIDE, SIDE), 3, 16, 16, 1);
        try (Model model = Zoo.entry("unet-small").create().build(device, 4, 0);
             CrossEntropyLoss loss = new CrossEntropyLoss();
             Sgd sgd = new Sgd(model.parameters(), 0.01);
             Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(1, 4, 0))) {
            long allocations = device.allocationCount();
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> trainer.fit(images.train(), images.test()));
            String message = refused.getMessage();
            assertTrue(message.contains("[4, 3, 32, 32]") && message.contains("a class per pixel [32, 32]")
                    && message.contains("one class []") && message.contains("training set"), message);
            IllegalArgumentException evaluation = assertThrows(IllegalArgumentException.class,
                    () -> trainer.evaluate(images.test()));
            assertTrue(evaluation.getMessage().contains("evaluation set"), evaluation.getMessage());
            assertEquals(allocations, device.allocationCount(), "native allocations before the refusal");
        }
    }

    @Test
    void aClassifierRefusesAClassPerPixelNamingBothShapes() {
        ShapesSegmentation masks = new ShapesSegmentation(3, SIDE, 16, 7, 0);
        try (Model model = Zoo.entry("vgg-small").create(3, ShapesSegmentation.CLASSES).build(device, 4, 0);
             CrossEntropyLoss loss = new CrossEntropyLoss();
             Sgd sgd = new Sgd(model.parameters(), 0.01);
             Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(1, 4, 0))) {
            long allocations = device.allocationCount();
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> trainer.fit(masks, null));
            String message = refused.getMessage();
            assertTrue(message.contains("[4, 3]") && message.contains("one class []")
                    && message.contains("a class per pixel [32, 32]"), message);
            assertEquals(allocations, device.allocationCount(), "native allocations before the refusal");
        }
    }
}
