package dev.isthmus.nn;

/** Batch norm over the features of [N, C] or [N, C, L]. */
public final class BatchNorm1d extends BatchNorm {
    /**
     * PyTorch's {@code BatchNorm1d(numFeatures)}: eps 1e-5, momentum 0.1, affine.
     *
     * @param numFeatures the channels (C of [N, C] or [N, C, H, W])
     */
    public BatchNorm1d(int numFeatures) {
        this(numFeatures, 1e-5f, 0.1f, true);
    }

    /**
     * PyTorch's {@code BatchNorm1d(numFeatures, eps, momentum, affine)}.
     *
     * @param numFeatures the channels (C of [N, C] or [N, C, H, W])
     * @param eps added for numerical stability
     * @param momentum the momentum factor
     * @param affine whether to learn a per-channel scale γ and shift β
     */
    public BatchNorm1d(int numFeatures, float eps, float momentum, boolean affine) {
        super(numFeatures, eps, momentum, affine);
    }

    @Override
    String name() {
        return "BatchNorm1d";
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 2 || rank == 3;
    }

    @Override
    String expectedInput() {
        return "[N, " + numFeatures() + "] or [N, " + numFeatures() + ", L]";
    }
}
