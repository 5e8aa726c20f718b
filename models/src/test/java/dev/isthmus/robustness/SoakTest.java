package dev.isthmus.robustness;

import dev.isthmus.data.Datasets;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Adam;
import dev.isthmus.tensor.Shape;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No leaks: many training steps and many models made and closed; the device's native bytes return
 * to where they started and the heap after a full collection does not grow. ISTHMUS_SOAK_STEPS and
 * ISTHMUS_SOAK_MODELS scale it up for the report's long run.
 */
class SoakTest {
    @Test
    void nativeMemoryAndHeapReturnToTheirLevels() throws Exception {
        int epochs = Integer.parseInt(System.getenv().getOrDefault("ISTHMUS_SOAK_EPOCHS", "6"));
        int models = Integer.parseInt(System.getenv().getOrDefault("ISTHMUS_SOAK_MODELS", "40"));
        Datasets.Split data = Datasets.synthetic(Shape.of(1, 28, 28), 10, 4096, 256, 3);
        try (CpuDevice device = new CpuDevice(2)) {
            long nativeStart = device.liveBytes();
            long heapStart = -1;
            long steps = 0;
            for (int round = 0; round < 3; round++) {
                try (Model model = Zoo.entry("lenet5").create(); CrossEntropyLoss loss = new CrossEntropyLoss()) {
                    model.build(device, 64, round);
                    try (Adam adam = Adam.adam(model.parameters(), 1e-3);
                         Trainer trainer = new Trainer(model, loss, adam, TrainingConfig.of(epochs, 64, round))) {
                        steps += (long) trainer.fit(data.train(), data.test()).size() * (4096 / 64);
                    }
                }
                assertEquals(nativeStart, device.liveBytes(), "native bytes after training round " + round);
                if (round == 0) {
                    heapStart = heapAfterFullCollection();
                }
            }
            List<String> names = List.of("lenet5", "mlp", "vgg-small", "vgg-small-bn", "resnet20");
            for (int i = 0; i < models; i++) {
                try (Model model = Zoo.entry(names.get(i % names.size())).create()) {
                    model.build(device, 2, i);
                }
            }
            assertEquals(nativeStart, device.liveBytes(), "native bytes after making and closing " + models + " models");
            long heapEnd = heapAfterFullCollection();
            assertTrue(heapEnd - heapStart < 4 << 20, "heap grew from " + heapStart + " to " + heapEnd + " bytes");
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "soak.txt"), "steps " + steps + "\nmodels " + models + "\nnative_start "
                    + nativeStart + "\nnative_end " + device.liveBytes() + "\nheap_start " + heapStart + "\nheap_end " + heapEnd + "\n");
        }
    }

    private static long heapAfterFullCollection() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
