package dev.isthmus.device;

/** What a {@link Device} runs on. */
public enum DeviceKind {
    /** The host's cores (OpenBLAS, oneDNN, Java loops). */
    CPU,
    /** An NVIDIA GPU (cuBLAS, cuDNN, PTX kernels). */
    CUDA
}
