package dev.isthmus.cli;

import dev.isthmus.data.ClassSubset;
import dev.isthmus.data.Datasets;
import dev.isthmus.data.InMemoryDataset;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.train.Trainer;
import dev.isthmus.train.TrainingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-tuning and distillation on real Fashion-MNIST (Debian's dataset-fashion-mnist), end to end
 * through {@code isthmus train}: a few thousand images, seconds each.
 */
class FineTuneEndToEndTest {
    @TempDir
    Path folder;

    private static final List<String> CONVOLUTIONS = List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias");

    /**
     * LeNet-5 with its usual 10-way head learns classes 0–4; {@code --init} puts it into a 5-class
     * model for classes 5–9 with the convolutions frozen: the head's tensors are skipped and listed,
     * the frozen weights come out bit-identical, and the rest learns the new classes.
     */
    @Test
    void aFrozenBackboneCarriesOverToNewClasses() throws Exception {
        Path base = folder.resolve("base.safetensors");
        try (CpuDevice device = new CpuDevice(2); Model model = Zoo.entry("lenet5").create();
             CrossEntropyLoss loss = new CrossEntropyLoss()) {
            Datasets.Split fashion = Datasets.fashionMnist(null);
            model.build(device, 64, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 0.05, 0.9, 0, 0, false);
                 Trainer trainer = new Trainer(model, loss, sgd, TrainingConfig.of(2, 64, 0))) {
                // Classes 0–4 in order keep their labels, so the 10-way head trains on them as they are.
                trainer.fit(new ClassSubset(((InMemoryDataset) fashion.train()).subset(0, 6_000), 0, 1, 2, 3, 4), null);
                Checkpoint.save(base, model, sgd, Map.of("epoch", 2));
            }
        }
        Path tuned = folder.resolve("tuned.safetensors");
        CommandLineTest.Run run = CommandLineTest.run("train", "lenet5", "--only-classes", "5-9", "--limit", "4000",
                "--test-limit", "2000", "--init", base.toString(), "--freeze", "conv1,conv2", "--epochs", "2", "--lr", "0.05",
                "--checkpoint", tuned.toString(), "--seed", "1", "--json");
        assertEquals(0, run.status(), run.err());
        Map<String, Object> json = run.json();
        assertEquals(List.of("fc3.weight: file F32 [10, 84], model F32 [5, 84]", "fc3.bias: file F32 [10], model F32 [5]"),
                json.get("init_skipped"));
        assertEquals(8L, json.get("init_loaded"));
        assertEquals(CONVOLUTIONS, json.get("frozen"));
        assertTrue(run.out().contains("skipped (shape or dtype differs): fc3.weight"), run.out());
        double accuracy = ((Number) json.get("test_accuracy")).doubleValue();
        System.out.printf("fine-tuning: classes 5-9 from a classes 0-4 backbone, test accuracy %.2f%%%n", 100 * accuracy);
        // Chance is 20% on five classes; two epochs of the head on ~2,000 images reach about 85–90%.
        assertTrue(accuracy > 0.7, "fine-tuned test accuracy " + accuracy);
        try (SafeTensors before = SafeTensors.open(base); SafeTensors after = SafeTensors.open(tuned)) {
            for (String name : CONVOLUTIONS) {
                assertArrayEquals(before.floats(name), after.floats(name), name + " is frozen: bit-identical after training");
                assertFalse(after.contains("optimizer." + name + ".momentum_buffer"), name + " has no optimizer state");
            }
            assertTrue(after.contains("optimizer.fc1.weight.momentum_buffer"), "the trained layers have optimizer state");
            assertFalse(java.util.Arrays.equals(before.floats("fc1.weight"), after.floats("fc1.weight")), "fc1 trained");
        }
        // The checkpoint resumes with the same flags: its optimizer state fits the trainable parameters.
        CommandLineTest.Run resumed = CommandLineTest.run("train", "lenet5", "--only-classes", "5-9", "--limit", "4000",
                "--test-limit", "2000", "--resume", tuned.toString(), "--freeze", "conv1,conv2", "--epochs", "3",
                "--lr", "0.05", "--seed", "1", "--json");
        assertEquals(0, resumed.status(), resumed.err());
        assertEquals(3L, resumed.json().get("epochs"));
    }

    /**
     * A small student (the MLP) trained on 500 images with a LeNet-5 teacher trained on 20,000
     * beats the same student, same seed, trained on the same 500 images alone.
     */
    @Test
    void aTeacherImprovesAStudentOnASmallSubset() {
        Path teacher = folder.resolve("teacher.safetensors");
        CommandLineTest.Run teaching = CommandLineTest.run("train", "lenet5", "--limit", "20000", "--test-limit", "2000",
                "--epochs", "3", "--lr", "0.05", "--checkpoint", teacher.toString(), "--seed", "3", "--json");
        assertEquals(0, teaching.status(), teaching.err());
        double teacherAccuracy = ((Number) teaching.json().get("test_accuracy")).doubleValue();
        String[] student = {"train", "mlp", "--limit", "500", "--test-limit", "2000", "--epochs", "20", "--lr", "0.05",
                "--seed", "5", "--json"};
        CommandLineTest.Run alone = CommandLineTest.run(student);
        assertEquals(0, alone.status(), alone.err());
        String[] distilled = java.util.stream.Stream.concat(java.util.Arrays.stream(student),
                java.util.stream.Stream.of("--teacher", "lenet5:" + teacher, "--temperature", "2", "--alpha", "0.5"))
                .toArray(String[]::new);
        CommandLineTest.Run taught = CommandLineTest.run(distilled);
        assertEquals(0, taught.status(), taught.err());
        assertTrue(taught.out().contains("distilling from lenet5"), taught.out());
        double aloneAccuracy = ((Number) alone.json().get("test_accuracy")).doubleValue();
        double taughtAccuracy = ((Number) taught.json().get("test_accuracy")).doubleValue();
        System.out.printf("distillation: teacher %.2f%%, student alone %.2f%%, student with teacher %.2f%%%n",
                100 * teacherAccuracy, 100 * aloneAccuracy, 100 * taughtAccuracy);
        assertTrue(taughtAccuracy > aloneAccuracy + 0.01,
                "with teacher " + taughtAccuracy + " should beat alone " + aloneAccuracy);
    }

    @Test
    void badFineTuningOptionsExitWithTwoAndOneLine() {
        for (String[] args : List.of(
                new String[] {"train", "lenet5", "--limit", "64", "--freeze", "features"},
                new String[] {"train", "lenet5", "--limit", "64", "--lr-groups", "fc3=fast"},
                new String[] {"train", "lenet5", "--limit", "64", "--lr-groups", "classifier=0.1"},
                new String[] {"train", "lenet5", "--limit", "64", "--teacher", "lenet5"},
                new String[] {"train", "lenet5", "--limit", "64", "--only-classes", "9-5"},
                new String[] {"train", "lenet5", "--limit", "64", "--only-classes", "7,12"},
                new String[] {"train", "lenet5", "--init", "a.safetensors", "--resume", "b.safetensors"},
                new String[] {"train", "lenet5", "--alpha", "1.5"})) {
            CommandLineTest.Run run = CommandLineTest.run(args);
            assertEquals(2, run.status(), String.join(" ", args) + " -> " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
        }
        CommandLineTest.Run missing = CommandLineTest.run("train", "lenet5", "--limit", "64", "--init",
                folder.resolve("absent.safetensors").toString());
        assertEquals(1, missing.status(), missing.err());
        assertTrue(missing.err().contains("absent.safetensors"), missing.err());
    }
}
