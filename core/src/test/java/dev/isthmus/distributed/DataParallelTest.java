package dev.isthmus.distributed;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** DataParallel's collective steps in two processes under mpirun. */
class DataParallelTest {
    @Test
    void broadcastsParametersAndAveragesGradients() throws Exception {
        String output = mpirun(0);
        assertTrue(output.contains("rank 0 ok") && output.contains("rank 1 ok"), output);
    }

    @Test
    void mismatchedConfigurationsAreRefusedOnEveryRankNamingTheHashes() throws Exception {
        String output = mpirun(0, "mismatch");
        assertTrue(output.contains("rank 0 refused") && output.contains("rank 1 refused"), output);
        assertTrue(output.contains("[1, 2]") && output.contains("batch 16"), output);
    }

    @Test
    void whenOneRankDiesTheJobEndsNonZeroWithinSixtySeconds() throws Exception {
        long start = System.nanoTime();
        Process process = start("die");
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        // Read from the file, not a pipe: a surviving rank could hold a pipe open forever.
        String output = java.nio.file.Files.readString(outputOf(process), StandardCharsets.UTF_8);
        assertTrue(finished, "mpirun still running 60 s after rank 1 died:\n" + output);
        assertTrue(process.exitValue() != 0, "mpirun exited 0 although rank 1 died:\n" + output);
        // Open MPI names the rank that exited and its status.
        assertTrue(output.contains("exited on signal") || output.contains("non-zero status"), output);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(60));
    }

    private static String mpirun(int expectedExit, String... arguments) throws Exception {
        Process process = start(arguments);
        boolean finished = process.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        // Read from the file, not a pipe: a surviving rank could hold a pipe open forever.
        String output = java.nio.file.Files.readString(outputOf(process), StandardCharsets.UTF_8);
        assertTrue(finished, "mpirun did not finish in 120 s:\n" + output);
        assertEquals(expectedExit, process.exitValue(), output);
        return output;
    }

    private static Process start(String... arguments) throws Exception {
        assumeTrue(MpiCollectivesTest.mpirunPresent(), "mpirun is not on PATH (ci/setup installs openmpi-bin)");
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of("mpirun", "--oversubscribe", "-np", "2", java,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                DataParallelMain.class.getName()));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("OMPI_ALLOW_RUN_AS_ROOT", "1");
        builder.environment().put("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
        builder.redirectErrorStream(true);
        File log = File.createTempFile("mpirun", ".log");
        log.deleteOnExit();
        builder.redirectOutput(log);
        Process process = builder.start();
        LOGS.put(process, log.toPath());
        return process;
    }

    private static final java.util.Map<Process, java.nio.file.Path> LOGS = new java.util.concurrent.ConcurrentHashMap<>();

    private static java.nio.file.Path outputOf(Process process) {
        return LOGS.remove(process);
    }
}
