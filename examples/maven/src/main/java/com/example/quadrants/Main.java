package com.example.quadrants;

import dev.isthmus.device.Device;
import dev.isthmus.device.Devices;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
import dev.isthmus.optim.Sgd;
import dev.isthmus.train.EpochResult;
import dev.isthmus.train.Evaluation;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Defines a small network from Isthmus layers, trains it on {@link QuadrantsDataset}, saves a
 * checkpoint, loads it into a second copy of the network and checks that the copy scores the same.
 * Exits with status 1 when the loss did not fall or the reloaded network differs.
 */
public final class Main {
    private static final int BATCH = 32;
    private static final int EPOCHS = 5;

    private Main() {
    }

    /** The network: PyTorch's nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 4)). */
    static Model network() {
        Sequential layers = new Sequential()
                .add("flatten", new Flatten())
                .add("fc1", new Linear(QuadrantsDataset.SIDE * QuadrantsDataset.SIDE, 32))
                .add("relu", new ReLU())
                .add("fc2", new Linear(32, 4));
        return new Model("quadrants-mlp", layers, new QuadrantsDataset(1, 0).sampleShape());
    }

    public static void main(String[] args) throws Exception {
        Path checkpoint = args.length > 0 ? Path.of(args[0]) : Files.createTempFile("quadrants", ".safetensors");
        QuadrantsDataset train = new QuadrantsDataset(2048, 1);
        QuadrantsDataset test = new QuadrantsDataset(512, 2);

        try (Device device = Devices.cpu(1)) {
            Evaluation before;
            Evaluation after;
            try (Model model = network().build(device, BATCH, 0);
                 CrossEntropyLoss loss = new CrossEntropyLoss();
                 Sgd sgd = new Sgd(model.parameters(), 0.05, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(EPOCHS, BATCH, 0))) {
                before = trainer.evaluate(test);
                System.out.printf("before training: test loss %.4f, accuracy %.1f%%%n", before.loss(), 100 * before.accuracy());
                List<EpochResult> history = trainer.fit(train, test);
                for (EpochResult epoch : history) {
                    System.out.printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.1f%%%n", epoch.epoch(),
                            epoch.trainLoss(), epoch.validation().loss(), 100 * epoch.validation().accuracy());
                }
                after = trainer.evaluate(test);
                Checkpoint.save(checkpoint, model, sgd, Map.of("epoch", EPOCHS));
                System.out.println("saved " + checkpoint);
            }

            // A fresh network with other initial weights, then the saved ones loaded over them.
            Evaluation reloaded;
            try (Model model = network().build(device, BATCH, 42);
                 CrossEntropyLoss loss = new CrossEntropyLoss();
                 Sgd sgd = new Sgd(model.parameters(), 0.05, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(1, BATCH, 0))) {
                Map<String, Object> state = Checkpoint.load(checkpoint, model, sgd);
                reloaded = trainer.evaluate(test);
                System.out.printf("reloaded (saved after epoch %s): test loss %.4f, accuracy %.1f%%%n",
                        state.get("epoch"), reloaded.loss(), 100 * reloaded.accuracy());
            }

            boolean learned = after.loss() < 0.5 * before.loss();
            boolean same = Math.abs(reloaded.loss() - after.loss()) <= 1e-6 * Math.max(1, after.loss())
                    && reloaded.accuracy() == after.accuracy();
            System.out.println(learned ? "the loss fell" : "FAILED: the loss did not fall to half");
            System.out.println(same ? "the reloaded network scores the same" : "FAILED: the reloaded network differs");
            if (!learned || !same) {
                System.exit(1);
            }
        }
    }
}
