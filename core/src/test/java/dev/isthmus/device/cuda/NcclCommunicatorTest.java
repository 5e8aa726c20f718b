package dev.isthmus.device.cuda;

import dev.isthmus.bindings.NativeLibrary;
import dev.isthmus.device.Device;
import dev.isthmus.device.DeviceKind;
import dev.isthmus.device.Devices;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NCCL through its bindings on one GPU: a communicator of one rank (NCCL refuses two ranks on one
 * GPU), whose all-reduce and broadcast leave the values as they are, its version, and misuse
 * refused before NCCL is reached. Skipped with the reason where no GPU or no NCCL is usable; a
 * machine with several GPUs runs the data-parallel path through `mpirun -np N isthmus train
 * --device cuda` (README, Scaling out).
 */
@Tag("gpu")
class NcclCommunicatorTest {
    @Test
    void aOneRankCommunicatorReducesAndBroadcastsOnTheDeviceStream() {
        Devices.Choice choice = Devices.open("auto", 0);
        try (Device device = choice.device()) {
            Assumptions.assumeTrue(device.kind() == DeviceKind.CUDA, "no usable GPU: " + choice.reason());
            Assumptions.assumeTrue(NativeLibrary.NCCL.isAvailable(), "NCCL is not installed (libnccl.so.2)");
            CudaDevice gpu = (CudaDevice) device;
            assertTrue(NcclCommunicator.version().matches("2\\.\\d+\\.\\d+"), NcclCommunicator.version());
            byte[] id = NcclCommunicator.uniqueId();
            try (NcclCommunicator nccl = NcclCommunicator.open(gpu, 1, 0, id);
                 Tensor values = device.fromArray(Shape.of(5), 1f, -2f, 3.5f, 0f, 1e-3f)) {
                nccl.allReduceSum(values);
                assertArrayEquals(new float[] {1f, -2f, 3.5f, 0f, 1e-3f}, values.toFloatArray());
                nccl.broadcast(values, 0);
                assertArrayEquals(new float[] {1f, -2f, 3.5f, 0f, 1e-3f}, values.toFloatArray());
                assertThrows(IllegalArgumentException.class, () -> nccl.broadcast(values, 1));
                try (CpuDevice cpu = new CpuDevice(1); Tensor onHost = cpu.fromArray(Shape.of(2), 1f, 2f)) {
                    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                            () -> nccl.allReduceSum(onHost));
                    assertTrue(refused.getMessage().contains("needs an F32 tensor on cuda:"), refused.getMessage());
                }
            }
            assertThrows(IllegalArgumentException.class, () -> NcclCommunicator.open(gpu, 2, 2, id));
            assertThrows(IllegalArgumentException.class, () -> NcclCommunicator.open(gpu, 1, 0, new byte[3]));
        }
    }
}
