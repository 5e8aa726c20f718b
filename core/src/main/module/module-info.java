/**
 * Isthmus: tensors, devices, layers, losses, optimizers, initializers, data, checkpoints and the
 * trainer. The CPU and CUDA backends ({@code dev.isthmus.device.cpu}, {@code .cuda}) are internal:
 * open a device through {@link dev.isthmus.device.Devices}.
 *
 * <p>This module calls restricted FFM methods: run with
 * {@code --enable-native-access=dev.isthmus.bindings,dev.isthmus.core}.
 */
module dev.isthmus.core {
    requires transitive dev.isthmus.bindings;
    // ImageIO decodes the PNG and JPEG files of image-folder datasets.
    requires java.desktop;

    exports dev.isthmus.data;
    exports dev.isthmus.device;
    exports dev.isthmus.distributed;
    exports dev.isthmus.init;
    exports dev.isthmus.io;
    exports dev.isthmus.loss;
    exports dev.isthmus.metric;
    exports dev.isthmus.nn;
    exports dev.isthmus.optim;
    exports dev.isthmus.random;
    exports dev.isthmus.tensor;
    exports dev.isthmus.train;

    // The command line reports the CPU backend's threads and measures raw OpenBLAS GEMM.
    exports dev.isthmus.device.cpu to dev.isthmus.models;
    // Under mpirun with --device cuda the command line makes the NCCL group for the GPU it opened.
    exports dev.isthmus.device.cuda to dev.isthmus.models;
}
