package dev.isthmus.device;

import dev.isthmus.bindings.LoadedLibrary;
import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.bindings.NativeLibraryException;
import dev.isthmus.bindings.cublas.cublas_h;
import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.cpu.OpenBlas;
import dev.isthmus.device.cuda.CudaDriver;
import dev.isthmus.device.cuda.CudaHandleProbe;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finds out which native libraries this machine has, where they came from and which versions they
 * report. Never throws: whatever is missing or broken becomes the library's {@code reason}.
 */
public final class NativeStatus {
    private NativeStatus() {
    }

    /** {@return the status of every native library, in the order {@code isthmus info} prints them} */
    public static List<LibraryStatus> report() {
        dev.isthmus.bindings.NativeAccess.require(NativeStatus.class.getModule(), "probing the native libraries");
        List<LibraryStatus> statuses = new ArrayList<>();
        statuses.add(openBlas());
        statuses.add(oneDnn());
        statuses.add(cudaDriver());
        statuses.add(cublas());
        statuses.add(cudnn());
        statuses.add(mpi());
        statuses.add(nccl());
        return statuses;
    }

    /** {@return OpenBLAS's status: where it was found, its configuration, core and threads} */
    public static LibraryStatus openBlas() {
        return probe(NativeLibrary.OPENBLAS, (loaded, details) -> {
            details.put("config", OpenBlas.config());
            details.put("core", OpenBlas.coreName());
            details.put("threads", OpenBlas.threads());
            details.put("OPENBLAS_CORETYPE", System.getenv("OPENBLAS_CORETYPE"));
            String config = OpenBlas.config();
            // "OpenBLAS 0.3.21 DYNAMIC_ARCH ..." — the version is the second word.
            String[] words = config.split("\\s+");
            return words.length > 1 && words[0].equals("OpenBLAS") ? words[1] : config;
        });
    }

    /** {@return oneDNN's status: where it was found, its version and the CPU backend chosen} */
    public static LibraryStatus oneDnn() {
        return probe(NativeLibrary.DNNL, (loaded, details) -> {
            MemorySegment version = dev.isthmus.bindings.dnnl.dnnl_h.dnnl_version()
                    .reinterpret(dev.isthmus.bindings.dnnl.dnnl_version_t.layout().byteSize());
            String choice = System.getProperty("isthmus.cpu.backend", System.getenv("ISTHMUS_CPU_BACKEND"));
            details.put("cpu_backend", choice != null && choice.equalsIgnoreCase("openblas")
                    ? "openblas (turned off by isthmus.cpu.backend=openblas)" : "onednn");
            details.put("openmp", NativeLibrary.OPENMP.isAvailable() ? NativeLibrary.OPENMP.load().location() : "missing");
            return dev.isthmus.bindings.dnnl.dnnl_version_t.major(version) + "."
                    + dev.isthmus.bindings.dnnl.dnnl_version_t.minor(version) + "."
                    + dev.isthmus.bindings.dnnl.dnnl_version_t.patch(version);
        });
    }

    /**
     * {@return the CUDA driver's status: where it was found, its version and GPUs, or why it is unusable}
     */
    public static LibraryStatus cudaDriver() {
        return probe(NativeLibrary.CUDA, (loaded, details) -> {
            int version = CudaDriver.driverVersion();
            CudaDriver.initialize();
            int count = CudaDriver.deviceCount();
            List<Map<String, Object>> devices = new ArrayList<>();
            for (int index = 0; index < count; index++) {
                int device = CudaDriver.device(index);
                Map<String, Object> facts = new LinkedHashMap<>();
                facts.put("index", index);
                facts.put("name", CudaDriver.deviceName(device));
                facts.put("compute_capability", CudaDriver.attribute(device, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR())
                        + "." + CudaDriver.attribute(device, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR()));
                facts.put("memory_bytes", CudaDriver.totalMemory(device));
                devices.add(facts);
            }
            details.put("devices", devices);
            return (version / 1000) + "." + (version % 1000) / 10;
        });
    }

    /**
     * Open MPI: the version text needs no MPI_Init, so reporting it starts no MPI runtime.
     *
     * @return Open MPI's status: where it was found, its version and the launch seen, or why it is unusable
     */
    public static LibraryStatus mpi() {
        return probe(NativeLibrary.MPI, (loaded, details) -> {
            details.put("launch", dev.isthmus.distributed.Launch.fromEnvironment().toString());
            return dev.isthmus.distributed.MpiLibrary.version();
        });
    }

    /**
     * NCCL: its version (ncclGetVersion needs no GPU and no communicator).
     *
     * @return NCCL's status: where it was found and its version, or why it is unusable
     */
    public static LibraryStatus nccl() {
        return probe(NativeLibrary.NCCL, (loaded, details) -> dev.isthmus.device.cuda.NcclCommunicator.version());
    }

    /** {@return cuBLAS's status: where it was found, its version, or why it is unusable} */
    public static LibraryStatus cublas() {
        return probe(NativeLibrary.CUBLAS, (loaded, details) -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
                int[] parts = new int[3];
                int[] properties = {cublas_h.MAJOR_VERSION(), cublas_h.MINOR_VERSION(), cublas_h.PATCH_LEVEL()};
                for (int i = 0; i < 3; i++) {
                    int status = cublas_h.cublasGetProperty(properties[i], value);
                    if (status != 0) {
                        throw new IllegalStateException("cublasGetProperty returned status " + status);
                    }
                    parts[i] = value.get(ValueLayout.JAVA_INT, 0);
                }
                requireHandle(details, CudaHandleProbe.Outcome::cublas);
                return parts[0] + "." + parts[1] + "." + parts[2];
            }
        });
    }

    /** {@return cuDNN's status: where it was found, its version, or why it is unusable} */
    public static LibraryStatus cudnn() {
        return probe(NativeLibrary.CUDNN, (loaded, details) -> {
            long version = cudnn_h.cudnnGetVersion();
            details.put("cudart_version", cudnn_h.cudnnGetCudartVersion());
            if (!loaded.subLibraries().isEmpty()) {
                details.put("sub_libraries", loaded.subLibraries());
            }
            requireHandle(details, CudaHandleProbe.Outcome::cudnn);
            // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + minor*100 + patch.
            return version >= 90000 ? (version / 10000) + "." + (version % 10000) / 100 + "." + version % 100
                    : (version / 1000) + "." + (version % 1000) / 100 + "." + version % 100;
        });
    }

    /**
     * On a machine with a GPU, throws unless the library can make a handle on cuda:0: one that loads
     * may still be unusable (built for a newer CUDA than the driver, sub-libraries missing).
     */
    private static void requireHandle(Map<String, Object> details, Function<CudaHandleProbe.Outcome, String> failure) {
        try {
            CudaDriver.initialize();
            if (CudaDriver.deviceCount() == 0) {
                details.put("handle", "not tried: the CUDA driver reports no GPU");
                return;
            }
        } catch (RuntimeException | LinkageError noDriver) {
            details.put("handle", "not tried: no usable CUDA driver");
            return;
        }
        String why = failure.apply(CudaHandleProbe.on(0));
        if (why != null) {
            throw new IllegalStateException("no handle on cuda:0: " + why);
        }
        details.put("handle", "created and destroyed on cuda:0");
    }

    private interface Probe {
        String run(LoadedLibrary loaded, Map<String, Object> details);
    }

    private static LibraryStatus probe(NativeLibrary library, Probe probe) {
        Map<String, Object> details = new LinkedHashMap<>();
        LoadedLibrary loaded;
        try {
            loaded = library.load();
        } catch (NativeLibraryException missing) {
            details.put("tried", missing.attempts());
            return new LibraryStatus(library.displayName(), false, null, null, null, details, "not found");
        }
        try {
            String version = probe.run(loaded, details);
            return new LibraryStatus(library.displayName(), true, loaded.location(), loaded.source(), version, details, null);
        } catch (RuntimeException | LinkageError broken) {
            String reason = broken.getMessage() != null ? broken.getMessage() : broken.toString();
            return new LibraryStatus(library.displayName(), false, loaded.location(), loaded.source(), null, details,
                    "loaded but unusable: " + reason);
        }
    }
}
