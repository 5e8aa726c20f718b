/**
 * The native libraries Isthmus reaches (OpenBLAS, oneDNN, OpenMP, the CUDA driver, cuBLAS,
 * cuDNN): the locator {@link dev.isthmus.bindings.NativeLibrary} and the native-access check
 * {@link dev.isthmus.bindings.NativeAccess}. The jextract-generated packages are Isthmus's own
 * internals, readable by the core module only.
 *
 * <p>This module calls restricted FFM methods: run with
 * {@code --enable-native-access=dev.isthmus.bindings,dev.isthmus.core}.
 */
module dev.isthmus.bindings {
    exports dev.isthmus.bindings;

    exports dev.isthmus.bindings.cblas to dev.isthmus.core;
    exports dev.isthmus.bindings.cublas to dev.isthmus.core;
    exports dev.isthmus.bindings.cuda to dev.isthmus.core;
    exports dev.isthmus.bindings.cudnn to dev.isthmus.core;
    exports dev.isthmus.bindings.dnnl to dev.isthmus.core;
    exports dev.isthmus.bindings.mpi to dev.isthmus.core;
    exports dev.isthmus.bindings.nccl to dev.isthmus.core;
    exports dev.isthmus.bindings.omp to dev.isthmus.core;
}
