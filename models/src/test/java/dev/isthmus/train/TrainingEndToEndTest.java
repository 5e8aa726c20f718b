package dev.isthmus.train;

import dev.isthmus.data.Dataset;
import dev.isthmus.data.Datasets;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.BatchNorm2d;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Dropout;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.MaxPool2d;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Parameter;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
import dev.isthmus.optim.Adam;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LeNet-5 learns real Fashion-MNIST; resuming from a checkpoint continues bit for bit. */
class TrainingEndToEndTest {
    private static CpuDevice device;
    private static Datasets.Split fashion;

    @TempDir
    Path folder;

    @BeforeAll
    static void open() throws IOException {
        device = new CpuDevice(2);
        // Debian's dataset-fashion-mnist (.ci/run installs it); a missing package fails here with its install hint.
        fashion = Datasets.fashionMnist(null);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    private static Dataset subset(Dataset dataset, int count) {
        return ((InMemoryDataset) dataset).subset(0, count);
    }

    @Test
    void leNet5LearnsFashionMnistInSeconds() {
        try (Model model = Zoo.entry("lenet5").create(); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, 64, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(2, 64, 0))) {
                List<EpochResult> results = trainer.fit(subset(fashion.train(), 12_800), subset(fashion.test(), 2_000));
                double accuracy = results.getLast().validation().accuracy();
                // Chance is 10%; two epochs on 12,800 images reach about 75%.
                assertTrue(accuracy > 0.65, "test accuracy " + accuracy);
                assertTrue(results.getLast().trainLoss() < results.getFirst().trainLoss());
            }
        }
    }

    /** A small network with batch norm and dropout, so counters and generator state must survive a resume. */
    private static Model smallNet() {
        return new Model("small", new Sequential()
                .add("conv", new Conv2d(1, 4, 3, 1, 1, true)).add("bn", new BatchNorm2d(4)).add(new ReLU())
                .add(new MaxPool2d(2)).add(new Flatten()).add("drop", new Dropout(0.3f)).add("fc", new Linear(4 * 14 * 14, 10)),
                Shape.of(1, 28, 28));
    }

    private float[][] train(int epochs, Path checkpoint, Path resumeFrom, long buildSeed,
                            Function<List<Parameter>, Optimizer> optimizerFactory) throws IOException {
        try (Model model = smallNet(); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, 50, buildSeed);
            try (Optimizer optimizer = optimizerFactory.apply(model.parameters());
                 Trainer trainer = new Trainer(model, loss, optimizer, TrainingConfig.of(epochs, 50, 11).withCheckpoint(checkpoint))) {
                if (resumeFrom != null) {
                    trainer.resume(resumeFrom);
                }
                trainer.fit(subset(fashion.train(), 1_000), null);
                List<float[]> state = new ArrayList<>();
                model.parameters().forEach(p -> state.add(p.value().toFloatArray()));
                model.buffers().forEach(b -> state.add(b.tensor().toFloatArray()));
                optimizer.state().forEach(s -> state.add(s.tensor().toFloatArray()));
                return state.toArray(new float[0][]);
            }
        }
    }

    @Test
    void twoEpochsThenResumingForOneEqualsThreeStraight() throws IOException {
        for (Function<List<Parameter>, Optimizer> optimizer : List.<Function<List<Parameter>, Optimizer>>of(
                p -> new Sgd(p, 0.05, 0.9, 0, 1e-4, false), p -> new Adam(p, 0.01, 0.9, 0.999, 1e-8, 0.01, true))) {
            float[][] straight = train(3, folder.resolve("straight.safetensors"), null, 1, optimizer);
            Path partial = folder.resolve("partial.safetensors");
            train(2, partial, null, 1, optimizer);
            // A different initial seed proves the weights come from the checkpoint.
            float[][] resumed = train(3, partial, partial, 999, optimizer);
            assertEquals(straight.length, resumed.length);
            for (int i = 0; i < straight.length; i++) {
                assertArrayEquals(straight[i], resumed[i], "tensor " + i + " differs after resuming");
            }
        }
    }

    @Test
    void anAbsurdLearningRateStopsWithTheFirstBadLayer() {
        try (Model model = Zoo.entry("lenet5").create(); CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, 64, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 1e9, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(1, 64, 0))) {
                TrainingDivergedException diverged = assertThrows(TrainingDivergedException.class,
                        () -> trainer.fit(subset(fashion.train(), 6_400), null));
                assertEquals(1, diverged.epoch());
                assertTrue(diverged.step() >= 2, "step " + diverged.step());
                assertTrue(diverged.getMessage().contains("at epoch 1, step " + diverged.step()), diverged.getMessage());
                assertTrue(diverged.firstBadLayer() != null && diverged.firstBadLayer().startsWith("conv1"),
                        diverged.getMessage());
            }
        }
    }
}
