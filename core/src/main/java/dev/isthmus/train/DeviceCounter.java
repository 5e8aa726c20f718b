package dev.isthmus.train;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** An I32 counter on the device that kernels add to, reset and read through one host int (no allocation). */
final class DeviceCounter implements AutoCloseable {
    private final Device device;
    private final Tensor count;
    private final int[] host = new int[1];
    private final MemorySegment hostView = MemorySegment.ofArray(host);

    DeviceCounter(Device device) {
        this.device = device;
        this.count = device.allocate(Shape.of(1), DType.I32);
    }

    Tensor tensor() {
        return count;
    }

    void reset() {
        host[0] = 0;
        device.copyFromHost(hostView, count);
    }

    /** The count (waits for the device). */
    long read() {
        device.copyToHost(count, hostView);
        return host[0];
    }

    @Override
    public void close() {
        count.close();
    }
}
