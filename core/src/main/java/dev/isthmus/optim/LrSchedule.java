package dev.isthmus.optim;

import java.util.Arrays;

/**
 * The learning rate for each epoch, given the base rate: the closed forms of PyTorch's StepLR,
 * MultiStepLR, ExponentialLR, CosineAnnealingLR and LinearLR (warm-up). A trainer sets the
 * optimizer's rate from it at the start of every epoch (epochs count from 0).
 */
@FunctionalInterface
public interface LrSchedule {
    /**
     * {@return the rate for {@code epoch} (from 0) given the optimizer's base rate}
     *
     * @param baseRate the optimizer's base rate
     * @param epoch the epoch, from 1
     */
    double learningRate(double baseRate, int epoch);

    /** {@return the base rate in every epoch} */
    static LrSchedule constant() {
        return (base, epoch) -> base;
    }

    /**
     * base · gamma^⌊epoch / stepSize⌋.
     *
     * @param stepSize the epochs between decays
     * @param gamma the factor
     * @return the schedule
     */
    static LrSchedule step(int stepSize, double gamma) {
        if (stepSize <= 0 || !(gamma > 0)) {
            throw new IllegalArgumentException("StepLR: step size must be > 0 and gamma > 0");
        }
        return (base, epoch) -> base * Math.pow(gamma, epoch / stepSize);
    }

    /**
     * base · gamma^(number of milestones ≤ epoch).
     *
     * @param milestones the epochs at which the rate is multiplied by gamma
     * @param gamma the factor
     * @return the schedule
     */
    static LrSchedule multiStep(int[] milestones, double gamma) {
        if (milestones == null || !(gamma > 0)) {
            throw new IllegalArgumentException("MultiStepLR: milestones and gamma > 0 are required");
        }
        int[] sorted = milestones.clone();
        Arrays.sort(sorted);
        return (base, epoch) -> {
            int passed = 0;
            for (int milestone : sorted) {
                if (milestone <= epoch) {
                    passed++;
                }
            }
            return base * Math.pow(gamma, passed);
        };
    }

    /**
     * base · gamma^epoch.
     *
     * @param gamma the factor
     * @return the schedule
     */
    static LrSchedule exponential(double gamma) {
        if (!(gamma > 0)) {
            throw new IllegalArgumentException("ExponentialLR: gamma must be > 0");
        }
        return (base, epoch) -> base * Math.pow(gamma, epoch);
    }

    /**
     * eta_min + (base − eta_min)·(1 + cos(π·epoch / tMax)) / 2 (not clamped after tMax, as in PyTorch).
     *
     * @param tMax the epochs of a half cosine period (T_max)
     * @param etaMin the smallest rate
     * @return the schedule
     */
    static LrSchedule cosine(int tMax, double etaMin) {
        if (tMax <= 0 || !(etaMin >= 0)) {
            throw new IllegalArgumentException("CosineAnnealingLR: T_max must be > 0 and eta_min >= 0");
        }
        return (base, epoch) -> etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }

    /**
     * Linear warm-up: base · (start + (end − start)·min(epoch, total)/total) (PyTorch's LinearLR).
     *
     * @param startFactor the factor at the start of the warm-up
     * @param endFactor the factor at the end of the warm-up
     * @param totalEpochs the epochs in the whole run
     * @return the schedule
     */
    static LrSchedule linear(double startFactor, double endFactor, int totalEpochs) {
        if (!(startFactor > 0 && startFactor <= 1) || !(endFactor >= 0 && endFactor <= 1) || totalEpochs <= 0) {
            throw new IllegalArgumentException("LinearLR: factors must be in (0, 1] and [0, 1], total epochs > 0");
        }
        return (base, epoch) -> base * (startFactor + (endFactor - startFactor) * Math.min(epoch, totalEpochs) / totalEpochs);
    }

    /**
     * This schedule after {@code epochs} of linear warm-up from {@code startFactor}·rate (SequentialLR).
     *
     * @param epochs the number of epochs
     * @param startFactor the factor at the start of the warm-up
     * @return this schedule after {@code epochs} of linear warm-up from {@code startFactor}·rate (SequentialLR)
     */
    default LrSchedule afterWarmup(int epochs, double startFactor) {
        LrSchedule warmup = linear(startFactor, 1.0, epochs);
        LrSchedule after = this;
        return (base, epoch) -> epoch < epochs ? warmup.learningRate(base, epoch) : after.learningRate(base, epoch - epochs);
    }
}
