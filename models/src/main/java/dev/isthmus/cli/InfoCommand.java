package dev.isthmus.cli;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
import dev.isthmus.device.LibraryStatus;
import dev.isthmus.device.NativeStatus;
import dev.isthmus.io.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code isthmus info}: the JDK, and each native library's location and version, or why it is missing. */
@Command(name = "info", sortOptions = false,
        header = "the JDK and the native libraries found (OpenBLAS, oneDNN, CUDA, cuBLAS, cuDNN, Open MPI, NCCL)",
        description = {"Prints the JDK, then for OpenBLAS, oneDNN, the CUDA driver, cuBLAS, cuDNN, Open MPI and NCCL: the file loaded, "
                + "how it was found and the version it reports, or the reason it is unavailable.",
                "Override any library with -Disthmus.library.NAME=/path or ISTHMUS_LIBRARY_NAME=/path "
                        + "(NAME: openblas, dnnl, openmp, cuda, cublas, cudnn, mpi, nccl)."})
final class InfoCommand implements Subcommand {
    @Mixin
    StandardOptions standard;

    /**
     * The convolution kernels oneDNN picks on this CPU for F32 and BF16 operands (the implementation
     * name carries the ISA: avx512_core, avx512_core_bf16, avx512_core_amx), and whether
     * {@code --precision bf16} is offered here, or why not.
     */
    static Map<String, Object> cpuPrecision() {
        Map<String, Object> result = new LinkedHashMap<>();
        try (CpuDevice cpu = new CpuDevice()) {
            result.put("fp32", cpu.convolutionKernel(DType.F32));
            result.put("bf16", cpu.convolutionKernel(DType.BF16));
            String refused = cpu.lowPrecisionSupport(DType.BF16);
            result.put("bf16_offered", refused == null);
            if (refused != null) {
                result.put("bf16_refused", refused);
            }
        } catch (RuntimeException | LinkageError unavailable) {
            result.put("fp32", "unknown");
            result.put("bf16", "unknown");
            result.put("bf16_offered", false);
            result.put("bf16_refused", String.valueOf(unavailable.getMessage()));
        }
        return result;
    }

    @Override
    public int run(PrintStream out, PrintStream err) {
        Map<String, Object> jdk = new LinkedHashMap<>();
        jdk.put("version", System.getProperty("java.version"));
        jdk.put("vm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        jdk.put("home", System.getProperty("java.home"));
        jdk.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        jdk.put("cores", Runtime.getRuntime().availableProcessors());

        List<LibraryStatus> libraries = NativeStatus.report();

        out.println("JDK         " + jdk.get("version") + " (" + jdk.get("vm") + ") at " + jdk.get("home"));
        out.println("Machine     " + jdk.get("os") + ", " + jdk.get("cores") + " cores");
        for (LibraryStatus library : libraries) {
            if (library.available()) {
                out.printf("%-11s %s — %s (%s)%n", library.name(), library.version(), library.location(), library.source());
            } else {
                out.printf("%-11s unavailable: %s%n", library.name(), library.reason());
            }
            library.details().forEach((key, value) -> {
                if (value instanceof List<?> items) {
                    out.printf("%-11s   %s:%n", "", key);
                    items.forEach(item -> out.printf("%-11s     %s%n", "", item));
                } else {
                    out.printf("%-11s   %s: %s%n", "", key, value);
                }
            });
        }
        Map<String, Object> precision = cpuPrecision();
        out.println("CPU kernels " + precision.get("fp32") + " (fp32), " + precision.get("bf16") + " (bf16: "
                + (precision.get("bf16_offered") == Boolean.TRUE ? "--precision bf16 offered" : precision.get("bf16_refused")) + ")");
        if (standard.json) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("jdk", jdk);
            json.put("cpu_precision", precision);
            Map<String, Object> native_ = new LinkedHashMap<>();
            for (LibraryStatus library : libraries) {
                native_.put(library.name(), library.toJson());
            }
            json.put("libraries", native_);
            out.println(Json.write(json));
        }
        return 0;
    }
}
