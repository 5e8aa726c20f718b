package dev.isthmus.nn;

import dev.isthmus.device.Device;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Where a training step's time goes, layer by layer (Caffe's {@code caffe time}): while a model is
 * profiled, every leaf layer's forward and backward is timed, a convolution's backward split into
 * its data and filter parts. The device is synchronised around each timed part, so the figures
 * are right for asynchronous devices too (and a profiled step is a little slower).
 */
public final class Profile {
    /** The parts of a layer's work that are timed. */
    public enum Part { FORWARD, BACKWARD, BACKWARD_DATA, BACKWARD_FILTER }

    private final Map<Layer, long[]> nanos = new IdentityHashMap<>();
    private final Device device;

    public Profile(Device device) {
        this.device = device;
    }

    long start() {
        device.synchronize();
        return System.nanoTime();
    }

    void stop(Layer layer, Part part, long started) {
        device.synchronize();
        nanos.computeIfAbsent(layer, l -> new long[Part.values().length])[part.ordinal()] += System.nanoTime() - started;
    }

    /** Total nanoseconds of {@code part} for {@code layer} so far. */
    public long nanos(Layer layer, Part part) {
        long[] parts = nanos.get(layer);
        return parts == null ? 0 : parts[part.ordinal()];
    }

    public void reset() {
        nanos.clear();
    }
}
