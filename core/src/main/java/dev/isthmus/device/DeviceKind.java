package dev.isthmus.device;

public enum DeviceKind {
    CPU,
    CUDA
}
