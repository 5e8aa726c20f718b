package dev.isthmus.device;

/**
 * Told how long each call of a plan took, the device synchronised before and after it: how a
 * profile sees a convolution's backward split into its data and filter parts without the layer
 * timing anything itself. See {@link ConvolutionPlan#timeWith}.
 */
public interface PlanTimer {
    /** The calls of a convolution plan. */
    enum Call {
        /** {@link ConvolutionPlan#forward}. */
        FORWARD,
        /** {@link ConvolutionPlan#backwardData}: dL/dx. */
        BACKWARD_DATA,
        /** {@link ConvolutionPlan#backwardFilter}: dL/dw and dL/db. */
        BACKWARD_FILTER
    }

    /**
     * One call has finished.
     *
     * @param call  which call
     * @param nanos how long it took, the device synchronised before and after
     */
    void timed(Call call, long nanos);
}
