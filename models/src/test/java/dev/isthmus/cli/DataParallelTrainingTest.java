package dev.isthmus.cli;

import dev.isthmus.io.Json;
import dev.isthmus.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code mpirun -np 2 isthmus train ...} end to end, with real Open MPI processes: the same
 * training as one process with twice the batch, bucketed all-reduce equal to one whole
 * all-reduce, mismatched ranks refused, a killed or stopped rank ending the job with messages,
 * and a checkpoint of two processes resumed by one.
 */
class DataParallelTrainingTest {
    /** LeNet-5 on 384 synthetic images, 2 epochs: 6 steps of 64 per epoch. */
    private static final List<String> RECIPE = List.of("train", "lenet5", "--data", "synthetic", "--synthetic-size", "384",
            "--epochs", "2", "--seed", "5", "--threads", "1");

    @TempDir
    Path folder;

    @Test
    void twoProcessesOfBatch32EndWhereOneProcessOfBatch64Ends() throws Exception {
        Path alone = folder.resolve("alone.safetensors");
        CommandLineTest.Run one = CommandLineTest.run(args(RECIPE, "--batch", "64", "--checkpoint", alone.toString()));
        assertEquals(0, one.status(), one.err());

        Path together = folder.resolve("together.safetensors");
        Job two = mpirun(120, 2, args(RECIPE, "--batch", "32", "--checkpoint", together.toString()));
        assertEquals(0, two.status(), two.output());
        assertTrue(two.output().contains("2 processes, batch 32 per process, effective batch 64"), two.output());
        // Only rank 0 prints the epochs (and writes the checkpoint).
        assertEquals(1, count(two.output(), "epoch 2: train loss"), two.output());
        assertEquals(lastLine(one.out(), "epoch 2:").replaceAll("\\|[^|]*img/s.*", ""),
                lastLine(two.output(), "epoch 2:").replaceAll("\\|[^|]*img/s.*", ""), "the same figures, reduced over ranks");

        double worst = maxRelativeDifference(alone, together);
        assertTrue(worst <= 1e-4, "parameters differ by " + worst + " (relative)");
    }

    @Test
    void withSyncBnBatchNormTrainsAsOneProcessOfTheWholeBatch() throws Exception {
        // Three steps. Batch norm's β gradients are sums that nearly cancel, so rounding alone moves
        // them by 1e-3 relative (one process with 1 or 2 threads differs as much): the measure is the
        // relative L2 distance over all parameters and buffers, not the worst element.
        List<String> recipe = List.of("train", "vgg-small-bn", "--data", "synthetic", "--synthetic-size", "96",
                "--epochs", "1", "--seed", "2", "--threads", "1");
        Path alone = folder.resolve("bn-alone.safetensors");
        CommandLineTest.Run one = CommandLineTest.run(args(recipe, "--batch", "32", "--checkpoint", alone.toString()));
        assertEquals(0, one.status(), one.err());

        Path synced = folder.resolve("bn-synced.safetensors");
        Job two = mpirun(180, 2, args(recipe, "--batch", "16", "--sync-bn", "--checkpoint", synced.toString()));
        assertEquals(0, two.status(), two.output());
        assertTrue(two.output().contains("--sync-bn: 4 batch-norm layers normalise over the global batch of 2 processes"),
                two.output());
        double syncedDifference = relativeDistance(alone, synced);
        assertTrue(syncedDifference <= 1e-4, "with --sync-bn the parameters differ by " + syncedDifference);

        // Without it each process normalises by its own 16 samples (DDP's default): measurably another model.
        Path local = folder.resolve("bn-local.safetensors");
        Job perProcess = mpirun(180, 2, args(recipe, "--batch", "16", "--checkpoint", local.toString()));
        assertEquals(0, perProcess.status(), perProcess.output());
        double localDifference = relativeDistance(alone, local);
        assertTrue(localDifference > 10 * Math.max(syncedDifference, 1e-6),
                "per-process statistics differ by only " + localDifference + " (synced: " + syncedDifference + ")");
    }

    @Test
    void bucketedAllReduceGivesWhatOneWholeAllReduceGives() throws Exception {
        Path bucketed = folder.resolve("bucketed.safetensors");
        Job small = mpirun(120, 2, args(RECIPE, "--batch", "32", "--bucket-mb", "0.02", "--checkpoint", bucketed.toString()));
        assertEquals(0, small.status(), small.output());
        assertTrue(small.output().matches("(?s).*all-reduce [0-9.]+ ms/step in ([2-9]|[1-9][0-9]+) buckets.*"), small.output());

        Path whole = folder.resolve("whole.safetensors");
        Job once = mpirun(120, 2, args(RECIPE, "--batch", "32", "--bucket-mb", "0", "--checkpoint", whole.toString()));
        assertEquals(0, once.status(), once.output());
        assertTrue(once.output().contains("gradients averaged after backward"), once.output());

        assertEquals(0.0, maxRelativeDifference(bucketed, whole), "two ranks' sums are exact whatever the buckets");
    }

    @Test
    void ranksStartedDifferentlyAreRefusedEachNamingItsSettings() throws Exception {
        List<String> command = new ArrayList<>(mpirunPrefix());
        command.addAll(List.of("-np", "1"));
        command.addAll(java(args(RECIPE, "--batch", "32")));
        command.addAll(List.of(":", "-np", "1"));
        command.addAll(java(args(RECIPE, "--batch", "16")));
        Job job = run(command, 120, null);
        assertNotEquals(0, job.status(), job.output());
        assertTrue(job.output().contains("different configurations"), job.output());
        assertTrue(job.output().contains("--batch 32") || job.output().contains("--batch 16"), job.output());
    }

    @Test
    void aKilledRankEndsTheJobWithMessagesAndItsCheckpointResumesOnOneProcess() throws Exception {
        Path checkpoint = folder.resolve("killed.safetensors");
        List<String> recipe = List.of("train", "lenet5", "--data", "synthetic", "--synthetic-size", "2048", "--epochs", "200",
                "--seed", "5", "--threads", "1", "--batch", "32", "--checkpoint", checkpoint.toString());
        Job job = run(command(2, recipe), 90, (process, log) -> {
            waitFor(() -> Files.exists(checkpoint), 60);
            rankProcess(process, 1).ifPresent(ProcessHandle::destroyForcibly);
        });
        assertTrue(job.seconds() < 90, "the job took " + job.seconds() + " s");
        assertNotEquals(0, job.status(), job.output());
        assertTrue(job.output().contains("rank 0 of 2: ended by the MPI launcher") || job.output().contains("exited on signal"),
                job.output());
        // The survivor did not leave a half-written checkpoint: one process resumes from it.
        int completed;
        try (SafeTensors saved = SafeTensors.open(checkpoint)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> training = (Map<String, Object>) Json.parseObject(saved.metadata().get("isthmus")).get("training");
            completed = ((Number) training.get("completed_epochs")).intValue();
            assertEquals(2, ((Number) training.get("processes")).intValue(), training.toString());
            assertEquals(64, ((Number) training.get("effective_batch_size")).intValue(), training.toString());
        }
        CommandLineTest.Run resumed = CommandLineTest.run("train", "lenet5", "--data", "synthetic", "--synthetic-size", "2048",
                "--epochs", Integer.toString(completed + 1), "--seed", "5", "--threads", "1", "--batch", "64",
                "--resume", checkpoint.toString());
        assertEquals(0, resumed.status(), resumed.err());
        assertTrue(resumed.out().contains("resumed after epoch " + completed), resumed.out());
        assertTrue(resumed.out().contains("epoch " + (completed + 1) + ": train loss"), resumed.out());
    }

    @Test
    void aStoppedRankIsNoticedByTheWatchdogWhichEndsTheJob() throws Exception {
        List<String> recipe = List.of("train", "lenet5", "--data", "synthetic", "--synthetic-size", "2048", "--epochs", "200",
                "--seed", "5", "--threads", "1", "--batch", "32", "--collective-timeout", "8");
        long[] stopped = new long[1];
        Job job = run(command(2, recipe), 90, (process, log) -> {
            // Stopped only once training runs (MPI_Init itself is not watched: the launcher times it out).
            waitFor(() -> read(log).contains("epoch 1:"), 60);
            rankProcess(process, 1).ifPresent(rank -> {
                stopped[0] = rank.pid();
                signal("STOP", rank.pid());
            });
        });
        if (stopped[0] != 0) {
            signal("KILL", stopped[0]);
        }
        assertTrue(stopped[0] != 0, "rank 1 was never found:\n" + job.output());
        assertNotEquals(0, job.status(), job.output());
        assertTrue(job.output().contains("rank 0 of 2:") && job.output().contains("has not finished after 8 s"), job.output());
    }

    // --- helpers ---

    private record Job(int status, String output, double seconds) {
    }

    private interface WhileRunning {
        void accept(Process process, Path log) throws Exception;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException unreadable) {
            return "";
        }
    }

    private static String[] args(List<String> recipe, String... more) {
        List<String> all = new ArrayList<>(recipe);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static List<String> mpirunPrefix() {
        return List.of("mpirun", "--oversubscribe");
    }

    private static List<String> java(String... args) {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    private static List<String> command(int processes, List<String> recipe) {
        List<String> command = new ArrayList<>(mpirunPrefix());
        command.addAll(List.of("-np", Integer.toString(processes)));
        command.addAll(java(recipe.toArray(String[]::new)));
        return command;
    }

    private Job mpirun(int timeoutSeconds, int processes, String... args) throws Exception {
        return run(command(processes, List.of(args)), timeoutSeconds, null);
    }

    private Job run(List<String> command, int timeoutSeconds, WhileRunning whileRunning) throws Exception {
        assumeTrue(mpirunPresent(), "mpirun is not on PATH (ci/setup installs openmpi-bin)");
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        builder.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        builder.redirectErrorStream(true);
        // A file, not a pipe: a surviving rank could hold a pipe open forever.
        Path log = Files.createTempFile(folder, "mpirun", ".log");
        builder.redirectOutput(log.toFile());
        long start = System.nanoTime();
        Process process = builder.start();
        try {
            if (whileRunning != null) {
                whileRunning.accept(process, log);
            }
            boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(finished, "mpirun did not finish in " + timeoutSeconds + " s:\n" + output);
            return new Job(process.exitValue(), output, seconds);
        } finally {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /** The java process of {@code rank} under mpirun: its environment names the rank. */
    private static Optional<ProcessHandle> rankProcess(Process mpirun, int rank) {
        return mpirun.descendants().filter(handle -> {
            try {
                String environment = Files.readString(Path.of("/proc", Long.toString(handle.pid()), "environ"),
                        StandardCharsets.ISO_8859_1);
                return handle.info().command().orElse("").endsWith("java")
                        && environment.contains("\0OMPI_COMM_WORLD_RANK=" + rank + "\0");
            } catch (IOException gone) {
                return false;
            }
        }).findFirst();
    }

    private static void signal(String name, long pid) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException failed) {
            throw new AssertionError("kill -" + name + " " + pid + ": " + failed, failed);
        }
    }

    private interface Condition {
        boolean holds();
    }

    private static void waitFor(Condition condition, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                return;
            }
            sleep(100);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static boolean mpirunPresent() {
        try {
            Process probe = new ProcessBuilder("mpirun", "--version").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException | InterruptedException absent) {
            return false;
        }
    }

    private static int count(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            count++;
        }
        return count;
    }

    private static String lastLine(String text, String prefix) {
        return text.lines().filter(line -> line.startsWith(prefix)).reduce((a, b) -> b).orElse("(no line " + prefix + ")");
    }

    /** ‖a − b‖₂ / ‖a‖₂ over every parameter and buffer of two checkpoints (optimizer state left out). */
    private static double relativeDistance(Path first, Path second) throws IOException {
        double difference = 0;
        double size = 0;
        try (SafeTensors a = SafeTensors.open(first); SafeTensors b = SafeTensors.open(second)) {
            for (String name : a.entries().keySet()) {
                if (!a.entry(name).dtype().equals("F32") || name.startsWith("optimizer.")) {
                    continue;
                }
                float[] x = a.floats(name);
                float[] y = b.floats(name);
                assertEquals(x.length, y.length, name);
                for (int i = 0; i < x.length; i++) {
                    difference += ((double) x[i] - y[i]) * ((double) x[i] - y[i]);
                    size += (double) x[i] * x[i];
                }
            }
        }
        return Math.sqrt(difference / size);
    }

    /** The largest |a - b| / max|a| over every F32 tensor both checkpoints hold (parameters and optimizer state). */
    private static double maxRelativeDifference(Path first, Path second) throws IOException {
        double worst = 0;
        int compared = 0;
        try (SafeTensors a = SafeTensors.open(first); SafeTensors b = SafeTensors.open(second)) {
            for (String name : a.entries().keySet()) {
                if (!a.entry(name).dtype().equals("F32") || !b.contains(name)) {
                    continue;
                }
                float[] x = a.floats(name);
                float[] y = b.floats(name);
                assertEquals(x.length, y.length, name);
                double scale = 0;
                double difference = 0;
                for (int i = 0; i < x.length; i++) {
                    scale = Math.max(scale, Math.abs(x[i]));
                    difference = Math.max(difference, Math.abs((double) x[i] - y[i]));
                }
                worst = Math.max(worst, scale == 0 ? difference : difference / scale);
                compared++;
            }
        }
        assertTrue(compared >= 10, "only " + compared + " tensors compared");
        return worst;
    }
}
