package dev.isthmus.distributed;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** MPI_Init, all-reduce, broadcast and all-gather in two real processes started by mpirun. */
class MpiCollectivesTest {
    @Test
    void twoProcessesAgreeOnEveryCollective() throws Exception {
        assumeTrue(mpirunPresent(), "mpirun is not on PATH (ci/setup installs openmpi-bin)");
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        ProcessBuilder builder = new ProcessBuilder(List.of("mpirun", "--oversubscribe", "-np", "2",
                java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                MpiCollectivesMain.class.getName()));
        // Open MPI refuses root unless told; CI containers run as root.
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
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("rank 0 of 2 ok") && output.contains("rank 1 of 2 ok"), output);
    }

    static boolean mpirunPresent() {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (new File(directory, "mpirun").canExecute()) {
                return true;
            }
        }
        return false;
    }
}
