package dev.isthmus.device;

/**
 * Told how long each call of a plan took, the device synchronised before and after it: how a
 * profile sees a convolution's backward split into its data and filter parts without the layer
 * timing anything itself. See {@link ConvolutionPlan#timeWith}.
 */
public interface PlanTimer {
    /** The calls of a convolution plan. */
    enum Call { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    void timed(Call call, long nanos);
}
