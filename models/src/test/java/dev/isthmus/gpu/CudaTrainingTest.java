package dev.isthmus.gpu;

import dev.isthmus.cli.bench.StepBenchmark;
import dev.isthmus.data.Datasets;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.device.Devices;
import dev.isthmus.device.cuda.CudaDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.train.EpochResult;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training on the GPU (issue 6): LeNet-5 learns Fashion-MNIST as on the CPU, ResNet-20 trains on
 * synthetic CIFAR-shaped data, and device memory does not grow across 1,000 steps. Skipped, with
 * the reason, where no usable GPU is present.
 */
@Tag("gpu")
class CudaTrainingTest {
    private static CudaDevice gpu;
    private static String unavailable;

    @BeforeAll
    static void open() {
        Devices.Choice choice = Devices.open("auto", 1);
        if (choice.device() instanceof CudaDevice cuda) {
            gpu = cuda;
        } else {
            choice.device().close();
            unavailable = choice.reason();
        }
    }

    /** Each case is reported skipped, with the reason `auto` gave for not picking the GPU. */
    @BeforeEach
    void requireGpu() {
        Assumptions.assumeTrue(gpu != null, () -> "no usable GPU: " + unavailable);
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    @Test
    void leNet5LearnsFashionMnistOnTheGpu() throws IOException {
        // A GPU machine without Debian's package gets the files through ISTHMUS_FASHION_MNIST_DIR (README, "GPU").
        String folder = System.getenv("ISTHMUS_FASHION_MNIST_DIR");
        Datasets.Split fashion = Datasets.fashionMnist(folder == null ? null : Path.of(folder));
        try (Model model = Zoo.entry("lenet5").create(); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(gpu, 64, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(2, 64, 0))) {
                List<EpochResult> results = trainer.fit(((InMemoryDataset) fashion.train()).subset(0, 12_800),
                        ((InMemoryDataset) fashion.test()).subset(0, 2_000));
                assertTrue(results.getLast().validation().accuracy() > 0.65, results.getLast().toString());
            }
        }
    }

    @Test
    void resNet20TrainsAThousandStepsWithoutGrowingDeviceMemory() {
        Datasets.Split data = Datasets.synthetic(Shape.of(3, 32, 32), 10, 4096, 512, 1);
        long liveBefore = gpu.liveBytes();
        try (Model model = Zoo.entry("resnet20").create(); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(gpu, 128, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 0.05, 0.9, 0, 5e-4, false)) {
                // One epoch (32 steps) to reach the steady state, then 31 more: 1,024 steps in all.
                EpochResult first;
                try (Trainer warmUp = new Trainer(model, loss, sgd, TrainingConfig.of(1, 128, 0))) {
                    first = warmUp.fit(data.train(), data.test()).getFirst();
                }
                long reserved = gpu.reservedBytes();
                List<EpochResult> results;
                try (Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(31, 128, 1))) {
                    results = trainer.fit(data.train(), data.test());
                }
                assertTrue(results.getLast().trainLoss() < first.trainLoss(), first + " then " + results.getLast());
                assertEquals(reserved, gpu.reservedBytes(), "device memory grew across 992 steps");
            }
            StepBenchmark.Result run = StepBenchmark.measure(model, StepBenchmark.Mode.TRAIN, 128, 0.5, 4, 3);
            assertEquals(0, run.deviceAllocationsPerRun(), "device allocations in steady-state steps");
        }
        assertEquals(liveBefore, gpu.liveBytes(), "device bytes still held after the model closed");
    }
}
