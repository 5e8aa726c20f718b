package dev.isthmus.nn;

/** Batch norm over the channels of [N, C, H, W]. */
public final class BatchNorm2d extends BatchNorm {
    /**
     * PyTorch's {@code BatchNorm2d(numFeatures)}: eps 1e-5, momentum 0.1, affine.
     *
     * @param numFeatures the channels (C of [N, C] or [N, C, H, W])
     */
    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5f, 0.1f, true);
    }

    /**
     * PyTorch's {@code BatchNorm2d(numFeatures, eps, momentum, affine)}.
     *
     * @param numFeatures the channels (C of [N, C] or [N, C, H, W])
     * @param eps added for numerical stability
     * @param momentum the momentum factor
     * @param affine whether to learn a per-channel scale γ and shift β
     */
    public BatchNorm2d(int numFeatures, float eps, float momentum, boolean affine) {
        super(numFeatures, eps, momentum, affine);
    }

    @Override
    String name() {
        return "BatchNorm2d";
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 4;
    }

    @Override
    String expectedInput() {
        return "[N, " + numFeatures() + ", H, W]";
    }
}
