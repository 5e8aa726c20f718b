package dev.isthmus.nn;

import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.PlanTimer;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Where a training step's time goes, layer by layer (Caffe's {@code caffe time}): added to a model
 * ({@link Model#addHook}), it times every layer's forward and backward, and a convolution's
 * backward split into its data and filter parts by timing the calls of its plan. The device is
 * synchronised around each timed part, so the figures are right for asynchronous devices too (and
 * a profiled step is a little slower). A container's time includes its children's.
 */
public final class Profile implements LayerHook, PlanTimer {
    /** The parts of a layer's work that are timed. */
    public enum Part {
        /** The layer's forward. */
        FORWARD,
        /** The layer's whole backward. */
        BACKWARD,
        /** A convolution's backward to its input (part of {@link #BACKWARD}). */
        BACKWARD_DATA,
        /** A convolution's backward to its weights and bias (part of {@link #BACKWARD}). */
        BACKWARD_FILTER
    }

    private final Map<Layer, long[]> nanos = new IdentityHashMap<>();
    private final Device device;
    // Calls nest (a container's enclose its children's): their start times form a stack.
    private long[] started = new long[16];
    private int depth;
    private Layer timedConvolution;

    /**
     * A profile of layers on {@code device} (synchronised around each timed part).
     *
     * @param device the device
     */
    public Profile(Device device) {
        this.device = device;
    }

    @Override
    public void beforeForward(Layer layer) {
        push();
    }

    @Override
    public void afterForward(Layer layer) {
        add(layer, Part.FORWARD, pop());
    }

    @Override
    public void beforeBackward(Layer layer) {
        if (layer instanceof Conv2d convolution && convolution.plan() != null) {
            timedConvolution = layer;
            convolution.plan().timeWith(this);
        }
        push();
    }

    @Override
    public void afterBackward(Layer layer) {
        add(layer, Part.BACKWARD, pop());
        if (layer == timedConvolution) {
            ConvolutionPlan plan = ((Conv2d) layer).plan();
            plan.timeWith(null);
            timedConvolution = null;
        }
    }

    /** The convolution plan's own calls, within the backward of {@link #timedConvolution}. */
    @Override
    public void timed(Call call, long elapsed) {
        if (timedConvolution == null || call == Call.FORWARD) {
            return;
        }
        add(timedConvolution, call == Call.BACKWARD_DATA ? Part.BACKWARD_DATA : Part.BACKWARD_FILTER, elapsed);
    }

    private void push() {
        if (depth == started.length) {
            started = Arrays.copyOf(started, depth * 2);
        }
        device.synchronize();
        started[depth++] = System.nanoTime();
    }

    private long pop() {
        device.synchronize();
        return System.nanoTime() - started[--depth];
    }

    private void add(Layer layer, Part part, long elapsed) {
        nanos.computeIfAbsent(layer, l -> new long[Part.values().length])[part.ordinal()] += elapsed;
    }

    /**
     * Total nanoseconds of {@code part} for {@code layer} so far.
     *
     * @param layer the layer
     * @param part which part of the work
     * @return total nanoseconds of {@code part} for {@code layer} so far
     */
    public long nanos(Layer layer, Part part) {
        long[] parts = nanos.get(layer);
        return parts == null ? 0 : parts[part.ordinal()];
    }

    /** Forgets every time measured so far. */
    public void reset() {
        nanos.clear();
    }
}
