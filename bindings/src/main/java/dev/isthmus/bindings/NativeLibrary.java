package dev.isthmus.bindings;

import java.lang.foreign.SymbolLookup;
import java.util.List;
import java.util.Optional;

/**
 * The native libraries Isthmus reaches through its jextract bindings. The generated code
 * resolves every symbol through {@link #symbols()}, so a class loads on any machine and a
 * missing library fails only when one of its functions is first needed, with the list of
 * places that were tried.
 */
public enum NativeLibrary {
    /** OpenBLAS (system copy, or the one bundled through Maven). */
    OPENBLAS("OpenBLAS", "CPU linear algebra", "openblas",
            List.of("libopenblas.so.0", "libopenblas.so"),
            List.of("/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/x86_64-linux-gnu",
                    "/usr/lib64", "/usr/local/lib", "/opt/OpenBLAS/lib"),
            List.of(),
            "apt-get install libopenblas0-pthread, keep org.bytedeco:openblas on the class path,",
            BundledLibrary.OPENBLAS),
    /** oneDNN 2.x (the C API the bindings were generated from changed in 3.0). */
    DNNL("oneDNN", "CPU convolutions, pooling, batch norm", "dnnl",
            List.of("libdnnl.so.2"),
            List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/lib", "/opt/intel/oneapi/dnnl/latest/lib"),
            List.of(),
            "apt-get install libdnnl2 (the CPU device falls back to OpenBLAS without it),",
            null),
    /** GNU OpenMP, which runs oneDNN's threads; needed to set their number. */
    OPENMP("OpenMP runtime", "oneDNN's thread pool", "openmp",
            List.of("libgomp.so.1"),
            List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64"),
            List.of(),
            "apt-get install libgomp1,",
            null),
    /** The NVIDIA driver's CUDA API ({@code libcuda.so.1}). */
    CUDA("CUDA driver", "NVIDIA GPU access", "cuda",
            List.of("libcuda.so.1", "libcuda.so"),
            List.of("/usr/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/lib64", "/usr/lib/wsl/lib"),
            List.of(),
            "install the NVIDIA driver (libcuda.so.1 comes with it; a GPU is needed),",
            null),
    /** NVIDIA cuBLAS (CUDA 11 to 13). */
    CUBLAS("cuBLAS", "GPU linear algebra", "cublas",
            List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"),
            List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu",
                    "/usr/lib64"),
            List.of("nvidia/cublas/lib", "nvidia/cu13/lib"),
            "install the CUDA toolkit's cuBLAS (or pip's nvidia-cublas-cu12),",
            null),
    /** NVIDIA cuDNN 8 or 9. */
    CUDNN("cuDNN", "GPU convolutions, pooling and batch norm", "cudnn",
            List.of("libcudnn.so.9", "libcudnn.so.8", "libcudnn.so"),
            List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu",
                    "/usr/lib64"),
            List.of("nvidia/cudnn/lib"),
            "install cuDNN 8 or 9 (or pip's nvidia-cudnn-cu12),",
            null),
    /** Open MPI 4.x/5.x (libmpi.so.40): the transport of data-parallel training on CPUs. */
    MPI("Open MPI", "data-parallel training across processes", "mpi",
            List.of("libmpi.so.40"),
            List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64/openmpi/lib", "/usr/lib64", "/usr/local/lib",
                    "/opt/openmpi/lib"),
            List.of(),
            "apt-get install openmpi-bin libopenmpi-dev (only needed to train across processes),",
            null),
    /** NVIDIA NCCL 2.x (libnccl.so.2): the transport of data-parallel training on GPUs. */
    NCCL("NCCL", "data-parallel training across GPUs", "nccl",
            List.of("libnccl.so.2", "libnccl.so"),
            List.of("/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                    "/usr/lib64", "/usr/local/lib"),
            List.of("nvidia/nccl/lib"),
            "install NCCL 2 (NVIDIA's libnccl2, or pip's nvidia-nccl-cu13; only needed to train across GPUs),",
            null);

    private final String displayName;
    private final String purpose;
    private final String shortName;
    private final List<String> sonames;
    private final List<String> wellKnownDirectories;
    private final List<String> pythonPackageDirectories;
    private final String installHint;
    private final BundledLibrary bundled;

    NativeLibrary(String displayName, String purpose, String shortName, List<String> sonames,
                  List<String> wellKnownDirectories, List<String> pythonPackageDirectories, String installHint,
                  BundledLibrary bundled) {
        this.displayName = displayName;
        this.purpose = purpose;
        this.shortName = shortName;
        this.sonames = sonames;
        this.wellKnownDirectories = wellKnownDirectories;
        this.pythonPackageDirectories = pythonPackageDirectories;
        this.installHint = installHint;
        this.bundled = bundled;
    }

    /** {@return the library's name for people ("cuBLAS")} */
    public String displayName() {
        return displayName;
    }

    String purpose() {
        return purpose;
    }

    /**
     * System property naming the library file explicitly, e.g. {@code isthmus.library.cublas}.
     *
     * @return system property naming the library file explicitly, e.g
     */
    public String propertyKey() {
        return "isthmus.library." + shortName;
    }

    /**
     * Environment variable naming the library file explicitly, e.g. {@code ISTHMUS_LIBRARY_CUBLAS}.
     *
     * @return environment variable naming the library file explicitly, e.g
     */
    public String environmentKey() {
        return "ISTHMUS_LIBRARY_" + shortName.toUpperCase(java.util.Locale.ROOT);
    }

    /**
     * Versioned sonames tried through the dynamic loader, newest first.
     *
     * @return versioned sonames tried through the dynamic loader, newest first
     */
    public List<String> sonames() {
        return sonames;
    }

    List<String> wellKnownDirectories() {
        return wellKnownDirectories;
    }

    List<String> pythonPackageDirectories() {
        return pythonPackageDirectories;
    }

    String installHint() {
        return installHint;
    }

    Optional<BundledLibrary> bundled() {
        return Optional.ofNullable(bundled);
    }

    /**
     * Symbols a file must export to be this library (and the version Isthmus was built against):
     * a file that lacks one is reported and the search goes on.
     */
    List<String> signature() {
        return switch (this) {
            case OPENBLAS -> List.of("cblas_sgemm", "openblas_get_config");
            // The *_desc_init functions exist in oneDNN 2.x only; 3.0 replaced them.
            case DNNL -> List.of("dnnl_version", "dnnl_dilated_convolution_forward_desc_init", "dnnl_sgemm");
            case OPENMP -> List.of("omp_set_num_threads");
            case CUDA -> List.of("cuInit", "cuDriverGetVersion");
            case CUBLAS -> List.of("cublasCreate_v2", "cublasSgemm_v2");
            case CUDNN -> List.of("cudnnGetVersion", "cudnnConvolutionForward");
            // ompi_mpi_comm_world is what MPI_COMM_WORLD points at: the file must be Open MPI's.
            case MPI -> List.of("MPI_Init_thread", "MPI_Iallreduce", "ompi_mpi_comm_world");
            case NCCL -> List.of("ncclGetVersion", "ncclCommInitRank", "ncclAllReduce");
        };
    }

    /**
     * Whether the sonames' version is the CUDA version the library was built for (libcublas.so.13
     * is CUDA 13's), so that one the driver is too old for must be skipped; cuDNN's is its own.
     */
    boolean namesCudaVersion() {
        return this == CUBLAS;
    }

    /** What the library is expected to be, for messages about a file that is something else. */
    String expected() {
        return switch (this) {
            case DNNL -> "oneDNN 2.x (libdnnl.so.2)";
            default -> displayName;
        };
    }

    /**
     * Finds and loads the library (once; the outcome, success or failure, is remembered).
     *
     * @return the loaded library
     * @throws NativeLibraryException naming every place tried, when it cannot be loaded
     */
    public LoadedLibrary load() {
        return LibraryLocator.load(this);
    }

    /**
     * Whether {@link #load()} succeeds.
     *
     * @return whether {@link #load()} succeeds
     */
    public boolean isAvailable() {
        try {
            load();
            return true;
        } catch (NativeLibraryException missing) {
            return false;
        }
    }

    /**
     * The lookup the generated bindings use. It loads the library on the first symbol
     * requested, so merely loading a binding class never touches the file system.
     *
     * @return the lookup the generated bindings use
     */
    public SymbolLookup symbols() {
        return name -> load().lookup().find(name);
    }
}
