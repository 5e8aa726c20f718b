package dev.isthmus.robustness;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.Checkpoint;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interrupted saves lose nothing: a separate JVM trains (epochs of a few milliseconds, a checkpoint
 * after each) and is killed with SIGKILL at a random epoch, over and over; every time, the last
 * complete checkpoint loads and the next run resumes from it. The kill moment is chosen by
 * counting the child's epoch lines, not by sleeping. ISTHMUS_KILLS sets how many (default 8).
 */
class InterruptedSaveTest {
    @TempDir
    Path folder;

    @Test
    void killingTheTrainerAtRandomMomentsNeverCostsTheLastCheckpoint() throws Exception {
        int kills = Integer.parseInt(System.getenv().getOrDefault("ISTHMUS_KILLS", "8"));
        Path checkpoint = folder.resolve("mlp.safetensors");
        SplittableRandom random = new SplittableRandom(2026);
        int lastEpoch = 0;
        int survived = 0;
        for (int kill = 0; kill < kills; kill++) {
            int epochsBeforeKill = 1 + random.nextInt(12);
            Process child = start(checkpoint, Files.exists(checkpoint));
            int seen = 0;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while (seen < epochsBeforeKill && (line = out.readLine()) != null) {
                    if (line.startsWith("epoch ") && line.contains(": train loss")) {
                        seen++;
                    }
                }
                // SIGKILL: no shutdown hooks, no finally blocks; the save in progress, if any, is cut short.
                child.destroyForcibly();
                child.waitFor();
            }
            assertTrue(seen > 0, "the child trained no epoch before kill " + kill);
            int epoch = loadAndCheck(checkpoint);
            assertTrue(epoch >= lastEpoch, "checkpoint went back from epoch " + lastEpoch + " to " + epoch);
            lastEpoch = epoch;
            survived++;
        }
        assertTrue(survived == kills);
        try (var leftovers = Files.list(folder)) {
            List<Path> partial = leftovers.filter(p -> p.getFileName().toString().endsWith(".partial")).toList();
            assertTrue(partial.size() <= 1, "stale partial files pile up: " + partial);
        }
        Files.writeString(Path.of("target", "kills-survived.txt"), survived + "\n");
    }

    private Process start(Path checkpoint, boolean resume) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "dev.isthmus.cli.Main", "train", "mlp", "--data", "synthetic",
                "--synthetic-size", "256", "--batch", "32", "--epochs", "100000", "--threads", "1", "--checkpoint",
                checkpoint.toString()));
        if (resume) {
            command.add("--resume");
            command.add(checkpoint.toString());
        }
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /** Loads the checkpoint into a fresh model and optimizer; returns its completed epochs. */
    private static int loadAndCheck(Path checkpoint) throws IOException {
        try (CpuDevice device = new CpuDevice(1); Model model = Zoo.entry("mlp").create()) {
            model.build(device, 32, 0);
            try (Sgd sgd = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false)) {
                Map<String, Object> state = Checkpoint.load(checkpoint, model, sgd);
                int epoch = ((Number) state.get("completed_epochs")).intValue();
                assertTrue(epoch >= 1);
                assertTrue(sgd.stepCount() == epoch * 8, "optimizer steps " + sgd.stepCount() + " for epoch " + epoch);
                return epoch;
            }
        }
    }
}
