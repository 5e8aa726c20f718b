package dev.isthmus.device.cpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which BF16 kernels oneDNN actually runs here, from its own verbose log (DNNL_VERBOSE=1 in a
 * child JVM, since the log goes to the process's standard output). With AMX (amx_bf16 and
 * amx_tile in /proc/cpuinfo) the convolutions must run AMX kernels: Linux gives a process AMX's
 * tile state only after it asks (arch_prctl ARCH_REQ_XCOMP_PERM, which oneDNN does when it
 * detects AMX), and an AMX instruction without it kills the process with SIGILL, so a child that
 * logs an executed AMX kernel and exits normally proves the request happened. Without AMX but with
 * AVX-512 BF16 (this project's Zen 5) they must run avx512_core_bf16 kernels and no AMX ones.
 * Without either, BF16 must be refused with the reason. Also: limiting oneDNN to AVX-512 without
 * BF16 (DNNL_MAX_CPU_ISA=AVX512_CORE) makes the device refuse BF16 rather than emulate it.
 */
class Bf16KernelTest {
    private record Run(int exitCode, List<String> lines) {
        String probe(String key) {
            return lines.stream().filter(l -> l.startsWith("probe " + key + "=")).map(l -> l.substring(("probe " + key + "=").length()))
                    .findFirst().orElseThrow(() -> new AssertionError("the probe printed no " + key + ":\n" + String.join("\n", lines)));
        }

        List<String> executed(String primitive) {
            List<String> kernels = new ArrayList<>();
            for (String line : lines) {
                String[] fields = line.split(",");
                // onednn_verbose,exec,cpu,<primitive>,<implementation>,<propagation>,...
                if ((line.startsWith("onednn_verbose,exec,") || line.startsWith("dnnl_verbose,exec,")) && fields.length > 5
                        && fields[3].equals(primitive)) {
                    kernels.add(fields[4] + " " + fields[5]);
                }
            }
            return kernels;
        }
    }

    private static Run runProbe(String maxIsa) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Bf16VerboseProbe.class.getName());
        builder.environment().put("DNNL_VERBOSE", "1");
        builder.environment().put("ONEDNN_VERBOSE", "1");
        if (maxIsa != null) {
            builder.environment().put("DNNL_MAX_CPU_ISA", maxIsa);
            builder.environment().put("ONEDNN_MAX_CPU_ISA", maxIsa);
        }
        builder.redirectErrorStream(true);
        Process process = builder.start();
        List<String> lines = new ArrayList<>();
        try (var reader = process.inputReader(StandardCharsets.UTF_8)) {
            reader.lines().forEach(lines::add);
        }
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the probe JVM did not finish");
        return new Run(process.exitValue(), lines);
    }

    private static String cpuFlags() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("flags")) {
                return " " + line.substring(line.indexOf(':') + 1).trim() + " ";
            }
        }
        return " ";
    }

    @Test
    void theBf16KernelsThatRunAreTheOnesThisCpuHas() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/cpuinfo")), "needs Linux's /proc/cpuinfo");
        Assumptions.assumeTrue(DnnlRuntime.unavailableReason(true) == null, "oneDNN is not used here: " + DnnlRuntime.unavailableReason(true));
        String flags = cpuFlags();
        boolean amx = flags.contains(" amx_bf16 ") && flags.contains(" amx_tile ");
        boolean avx512Bf16 = flags.contains(" avx512_bf16 ");
        Run run = runProbe(null);
        assertEquals(0, run.exitCode(), "the probe JVM failed:\n" + String.join("\n", run.lines()));
        if (!amx && !avx512Bf16) {
            assertNotEquals("none", run.probe("refused"), "a CPU without BF16 instructions must refuse BF16");
            return;
        }
        assertEquals("none", run.probe("refused"), "BF16 must be offered with " + (amx ? "AMX" : "AVX-512 BF16"));
        assertEquals("yes", run.probe("ran"));
        assertTrue(run.lines().stream().anyMatch(l -> l.contains("verbose,info,cpu,isa:") && l.toLowerCase().contains("bfloat16")),
                "oneDNN's verbose header names an ISA with bfloat16 support");
        List<String> convolutions = run.executed("convolution");
        assertEquals(3, convolutions.stream().map(k -> k.split(" ")[1]).distinct().count(),
                "forward, backward data and backward weights each ran: " + convolutions);
        String forwardKernel = convolutions.stream().filter(k -> k.endsWith("forward_training")).findFirst().orElseThrow();
        assertEquals(run.probe("kernel"), forwardKernel.split(" ")[0], "what `isthmus info` reports is what ran");
        for (String kernel : convolutions) {
            if (amx) {
                assertTrue(kernel.contains("amx"), "with AMX every BF16 convolution must run an AMX kernel: " + kernel);
            } else {
                assertTrue(kernel.contains("avx512_core_bf16") && !kernel.contains("amx"),
                        "without AMX, BF16 convolutions run AVX-512 BF16 kernels: " + kernel);
            }
        }
    }

    @Test
    void bf16IsRefusedWhereOneDnnMayNotUseBf16Instructions() throws Exception {
        Assumptions.assumeTrue(DnnlRuntime.unavailableReason(true) == null, "oneDNN is not used here: " + DnnlRuntime.unavailableReason(true));
        Run run = runProbe("AVX512_CORE");
        assertEquals(0, run.exitCode(), String.join("\n", run.lines()));
        String refused = run.probe("refused");
        assertNotEquals("none", refused, "AVX-512 without BF16 would only emulate BF16; it must be refused");
        assertTrue(refused.contains("emulated") && refused.contains("fp32"), refused);
        assertFalse(run.lines().stream().anyMatch(l -> l.startsWith("probe ran=")));
    }
}
