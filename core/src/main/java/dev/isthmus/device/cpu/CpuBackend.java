package dev.isthmus.device.cpu;

/** Which kernels a {@link CpuDevice} uses. */
public enum CpuBackend {
    /** oneDNN when libdnnl.so.2 loads (and -Disthmus.cpu.backend=openblas is not set), else OpenBLAS. */
    AUTO,
    /** oneDNN, or fail with the reason it is unavailable. */
    ONEDNN,
    /** im2col + OpenBLAS and Java loops, whatever else is installed. */
    OPENBLAS
}
