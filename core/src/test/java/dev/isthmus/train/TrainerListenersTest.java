package dev.isthmus.train;

import dev.isthmus.data.Datasets;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Flatten;
import dev.isthmus.nn.Linear;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.ReLU;
import dev.isthmus.nn.Sequential;
import dev.isthmus.optim.LrSchedule;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer is a loop plus listeners: a user's listener hears every event in order and can stop
 * training, and the built-in behaviours (schedule, NaN guard, checkpoints, progress, early
 * stopping) are listeners that can be removed. A small MLP on synthetic 8×8 images, 8 steps an epoch.
 */
class TrainerListenersTest {
    private static final int BATCH = 32;
    private static final int STEPS_PER_EPOCH = 8;
    private static CpuDevice device;
    private static Datasets.Split data;

    @TempDir
    Path folder;

    @BeforeAll
    static void open() {
        device = new CpuDevice(1);
        data = Datasets.synthetic(Shape.of(1, 8, 8), 4, BATCH * STEPS_PER_EPOCH, 64, 3);
    }

    @AfterAll
    static void close() {
        device.close();
    }

    /** Runs {@code body} with a trainer over a fresh model (SGD at {@code lr}, momentum 0.9). */
    private static <T> T withTrainer(double lr, TrainingConfig config, Function<Trainer, T> body) {
        try (Model model = new Model("mlp", new Sequential().add(new Flatten()).add("fc1", new Linear(64, 16))
                .add(new ReLU()).add("fc2", new Linear(16, 4)), Shape.of(1, 8, 8));
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            model.build(device, BATCH, 0);
            try (Sgd sgd = new Sgd(model.parameters(), lr, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, config)) {
                return body.apply(trainer);
            }
        }
    }

    /** Writes every event down as a line. */
    private static final class Recorder implements TrainingListener {
        final List<String> events = new ArrayList<>();
        final List<EpochResult> epochs = new ArrayList<>();

        @Override
        public void onTrainingBegin(Trainer trainer) {
            events.add("begin");
        }

        @Override
        public void onEpochBegin(Trainer trainer, int epoch) {
            events.add("epoch " + epoch + " begin, " + trainer.state().completedEpochs() + " completed");
        }

        @Override
        public void onStep(Trainer trainer, StepResult step) {
            assertTrue(Float.isFinite(step.loss()) && step.batchSize() == BATCH, step.toString());
            events.add("step " + step.epoch() + "." + step.step() + "/" + step.batches());
        }

        @Override
        public void onEpochEnd(Trainer trainer, EpochResult result) {
            epochs.add(result);
            events.add("epoch " + result.epoch() + " end, " + trainer.state().completedEpochs() + " completed, "
                    + trainer.state().steps() + " steps");
        }

        @Override
        public void onTrainingEnd(Trainer trainer) {
            events.add("end");
        }
    }

    @Test
    void aUserListenerHearsEveryEpochAndStepInOrder() {
        Recorder recorder = new Recorder();
        List<EpochResult> results = withTrainer(0.05, TrainingConfig.of(2, BATCH, 0),
                trainer -> trainer.addListener(recorder).fit(data.train(), data.test()));
        List<String> expected = new ArrayList<>();
        expected.add("begin");
        for (int epoch = 1; epoch <= 2; epoch++) {
            expected.add("epoch " + epoch + " begin, " + (epoch - 1) + " completed");
            for (int step = 1; step <= STEPS_PER_EPOCH; step++) {
                expected.add("step " + epoch + "." + step + "/" + STEPS_PER_EPOCH);
            }
            expected.add("epoch " + epoch + " end, " + epoch + " completed, " + epoch * STEPS_PER_EPOCH + " steps");
        }
        expected.add("end");
        assertEquals(expected, recorder.events);
        assertEquals(results, recorder.epochs, "listeners hear the results fit returns");
        assertTrue(results.getLast().validation() != null && results.getLast().trainAccuracy() > 0.25, results.toString());
    }

    @Test
    void aListenerCanStopTrainingAfterTheEpochInProgress() {
        TrainingListener stopInSecondEpoch = new TrainingListener() {
            @Override
            public void onStep(Trainer trainer, StepResult step) {
                if (step.epoch() == 2 && step.step() == 3) {
                    trainer.requestStop("enough");
                }
            }
        };
        Recorder recorder = new Recorder();
        withTrainer(0.05, TrainingConfig.of(5, BATCH, 0), trainer -> {
            List<EpochResult> results = trainer.addListener(stopInSecondEpoch).addListener(recorder)
                    .fit(data.train(), null);
            assertEquals(2, results.size());
            assertEquals(2, trainer.completedEpochs());
            assertEquals("enough", trainer.stopReason());
            return null;
        });
        assertEquals("step 2." + STEPS_PER_EPOCH + "/" + STEPS_PER_EPOCH, recorder.events.get(recorder.events.size() - 3),
                "the epoch in progress finishes");
        assertEquals("end", recorder.events.getLast());
    }

    @Test
    void theBuiltInBehavioursAreTheDefaultListenersInOrder() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TrainingConfig everything = new TrainingConfig(3, BATCH, 0, LrSchedule.step(1, 0.5), 0, 2,
                folder.resolve("run.safetensors"), 5, Progress.forOutput(new PrintStream(out), false), null, null);
        List<Class<?>> kinds = Trainer.defaultListeners(everything).stream().<Class<?>>map(Object::getClass).toList();
        assertEquals(List.of(LearningRateScheduler.class, DivergenceGuard.class, EpochCheckpoints.class,
                ProgressReporter.class, EarlyStopping.class), kinds);
        List<Class<?>> plain = Trainer.defaultListeners(TrainingConfig.of(1, BATCH, 0)).stream()
                .<Class<?>>map(Object::getClass).toList();
        assertEquals(List.of(LearningRateScheduler.class, DivergenceGuard.class), plain);

        // The schedule is a listener: without it the rate stays at the optimizer's base.
        TrainingConfig quiet = everything.withProgress(null);
        List<Double> scheduled = withTrainer(0.08, quiet,
                trainer -> trainer.fit(data.train(), null).stream().map(EpochResult::learningRate).toList());
        assertEquals(List.of(0.08, 0.04, 0.02), scheduled);
        List<Double> constant = withTrainer(0.08, quiet, trainer -> {
            assertEquals(1, trainer.removeListeners(LearningRateScheduler.class));
            return trainer.fit(data.train(), null).stream().map(EpochResult::learningRate).toList();
        });
        assertEquals(List.of(0.08, 0.08, 0.08), constant);
    }

    @Test
    void earlyStoppingIsAListenerAndRemovingItTrainsEveryEpoch() {
        // A rate of 0 never improves validation accuracy after the first epoch, so patience 1 stops after epoch 2.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TrainingConfig config = new TrainingConfig(4, BATCH, 0, null, 0, 1, null, 5,
                Progress.forOutput(new PrintStream(out, true, StandardCharsets.UTF_8), false), null, null);
        int stoppedAfter = withTrainer(0, config, trainer -> trainer.fit(data.train(), data.test()).size());
        assertEquals(2, stoppedAfter);
        String log = out.toString(StandardCharsets.UTF_8);
        assertTrue(log.lines().toList().getLast().startsWith("early stopping: validation accuracy has not improved for 1 epochs (best "),
                log);
        assertEquals(2, log.lines().filter(line -> line.startsWith("epoch ") && line.contains(": train loss")).count(), log);

        int withoutIt = withTrainer(0, config, trainer -> {
            assertEquals(1, trainer.removeListeners(EarlyStopping.class));
            List<EpochResult> results = trainer.fit(data.train(), data.test());
            assertNull(trainer.stopReason());
            assertEquals(3, trainer.state().epochsWithoutImprovement(), "the state still counts, nobody acts on it");
            return results.size();
        });
        assertEquals(4, withoutIt);
    }

    @Test
    void checkpointsAfterEachEpochKeepTheirTrainingKeysAndResume() throws IOException {
        Path checkpoint = folder.resolve("mlp.safetensors");
        TrainingConfig config = TrainingConfig.of(2, BATCH, 5).withCheckpoint(checkpoint);
        List<EpochResult> results = withTrainer(0.1, config, trainer -> trainer.fit(data.train(), data.test()));
        Map<String, Object> training;
        try (SafeTensors file = SafeTensors.open(checkpoint)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> section = (Map<String, Object>) Json.parseObject(file.metadata().get("isthmus")).get("training");
            training = section;
        }
        assertEquals(List.of("completed_epochs", "best_accuracy", "epochs_without_improvement", "seed", "batch_size", "base_lr"),
                List.copyOf(training.keySet()));
        double best = Math.max(results.get(0).validation().accuracy(), results.get(1).validation().accuracy());
        assertEquals(2L, training.get("completed_epochs"));
        assertEquals(best, ((Number) training.get("best_accuracy")).doubleValue());
        assertEquals(results.get(1).validation().accuracy() == best ? 0L : 1L, training.get("epochs_without_improvement"));
        assertEquals(5L, training.get("seed"));
        assertEquals((long) BATCH, training.get("batch_size"));
        assertEquals(0.1, ((Number) training.get("base_lr")).doubleValue());

        TrainingState resumed = withTrainer(0.1, config.withEpochs(3), trainer -> {
            try {
                trainer.resume(checkpoint);
            } catch (IOException unreadable) {
                throw new AssertionError(unreadable);
            }
            return trainer.state();
        });
        assertEquals(2, resumed.completedEpochs());
        assertEquals(2 * STEPS_PER_EPOCH, resumed.steps());
        assertEquals(best, resumed.bestAccuracy());
    }

    @Test
    void listenersChangeBetweenFitsNotDuringOne() {
        TrainingListener meddler = new TrainingListener() {
            @Override
            public void onEpochBegin(Trainer trainer, int epoch) {
                trainer.removeListener(this);
            }
        };
        withTrainer(0.05, TrainingConfig.of(1, BATCH, 0), trainer -> {
            trainer.addListener(meddler);
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> trainer.fit(data.train(), null));
            assertTrue(refused.getMessage().contains("between fits"), refused.getMessage());
            assertTrue(trainer.removeListener(meddler), "after the fit, the list can change again");
            assertFalse(trainer.listeners().contains(meddler));
            assertSame(TrainStep.class, trainer.step().getClass());
            return null;
        });
    }
}
