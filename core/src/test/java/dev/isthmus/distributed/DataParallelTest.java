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

    private static String mpirun(int expectedExit, String... arguments) throws Exception {
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
        Process process = builder.start();
        boolean finished = process.waitFor(120, TimeUnit.SECONDS);
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!finished) {
            process.destroyForcibly();
        }
        assertTrue(finished, "mpirun did not finish in 120 s:\n" + output);
        assertEquals(expectedExit, process.exitValue(), output);
        return output;
    }
}
