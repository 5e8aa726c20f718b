package dev.isthmus.nn;

/** Batch norm over the features of [N, C] or [N, C, L]. */
public final class BatchNorm1d extends BatchNorm {
    public BatchNorm1d(int numFeatures) {
        this(numFeatures, 1e-5f, 0.1f, true);
    }

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
