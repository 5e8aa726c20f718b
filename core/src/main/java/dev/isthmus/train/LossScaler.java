package dev.isthmus.train;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dynamic loss scaling for FP16 mixed precision, PyTorch's {@code GradScaler}: the loss gradient
 * is multiplied by a scale before backward, so that small gradients survive FP16's range, and the
 * F32 parameter gradients are divided by it before the update. A step whose gradients came out
 * non-finite (the scaled backward overflowed) is skipped and the scale backs off; after
 * {@code growthInterval} good steps in a row the scale grows. BF16 has F32's range and needs none.
 * The state (scale and growth tracker) goes into checkpoints with the training position.
 */
public final class LossScaler {
    private final double growthFactor;
    private final double backoffFactor;
    private final int growthInterval;
    private double scale;
    private int growthTracker;
    private long skippedSteps;

    /** PyTorch's defaults: scale 2^16, growth ×2 after 2000 good steps, backoff ×0.5. */
    public LossScaler() {
        this(65536.0, 2.0, 0.5, 2000);
    }

    /**
     * A scaler with its own rules.
     *
     * @param initialScale   the first scale (finite, &gt; 0)
     * @param growthFactor   what the scale is multiplied by after {@code growthInterval} good steps (&gt; 1)
     * @param backoffFactor  what it is multiplied by after a skipped step, in (0, 1)
     * @param growthInterval good steps in a row before it grows (&ge; 1)
     */
    public LossScaler(double initialScale, double growthFactor, double backoffFactor, int growthInterval) {
        if (!(initialScale > 0) || Double.isInfinite(initialScale) || !(growthFactor > 1) || Double.isInfinite(growthFactor)
                || !(backoffFactor > 0 && backoffFactor < 1) || growthInterval < 1) {
            throw new IllegalArgumentException("LossScaler: needs a finite scale > 0, growth > 1, backoff in (0, 1) and an"
                    + " interval >= 1, got " + initialScale + ", " + growthFactor + ", " + backoffFactor + ", " + growthInterval);
        }
        this.scale = initialScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
    }

    /** {@return the current scale} */
    public double scale() {
        return scale;
    }

    /** {@return the steps skipped because their gradients were not finite} */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** Multiplies the loss gradient (before backward) by the scale. */
    void scaleLossGradient(Device device, Tensor lossGradient) {
        device.blas().scale(lossGradient, (float) scale);
    }

    /**
     * Divides the gradients by the scale when all are finite and returns true (take the step);
     * returns false, leaving them, when any is not (skip it). Updates the scale either way.
     */
    boolean unscale(Device device, List<Tensor> gradients) {
        long nonFinite = 0;
        for (Tensor gradient : gradients) {
            nonFinite += device.reductions().countNonFinite(gradient);
        }
        boolean finite = nonFinite == 0;
        if (finite) {
            float inverse = (float) (1.0 / scale);
            for (Tensor gradient : gradients) {
                device.blas().scale(gradient, inverse);
            }
        }
        update(finite);
        return finite;
    }

    private void update(boolean finite) {
        if (!finite) {
            scale *= backoffFactor;
            growthTracker = 0;
            skippedSteps++;
            return;
        }
        growthTracker++;
        if (growthTracker == growthInterval) {
            double grown = scale * growthFactor;
            // As GradScaler: growth stops where the scale itself would stop being finite in F32.
            if (grown <= Float.MAX_VALUE) {
                scale = grown;
            }
            growthTracker = 0;
        }
    }

    /** {@return the state for a checkpoint, with GradScaler's state_dict keys} */
    public Map<String, Object> state() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("scale", scale);
        state.put("growth_factor", growthFactor);
        state.put("backoff_factor", backoffFactor);
        state.put("growth_interval", growthInterval);
        state.put("_growth_tracker", growthTracker);
        return state;
    }

    /**
     * Restores {@link #state()} from a checkpoint (the scale and the growth tracker).
     *
     * @param state what {@link #state()} gave, read back
     */
    public void restore(Map<?, ?> state) {
        if (!(state.get("scale") instanceof Number saved) || !(saved.doubleValue() > 0)
                || Double.isInfinite(saved.doubleValue()) || !(state.get("_growth_tracker") instanceof Number tracker)) {
            throw new IllegalArgumentException("loss scaler state needs a finite scale > 0 and a growth tracker, got " + state);
        }
        scale = saved.doubleValue();
        growthTracker = tracker.intValue();
    }
}
