package dev.isthmus.tensor;

/** Element types. F32 carries all numeric work; I32 carries class labels and indices. */
public enum DType {
    /** 32-bit IEEE float. */
    F32(4, true),
    /** 32-bit signed integer. */
    I32(4, false);

    private final int byteSize;
    private final boolean floating;

    DType(int byteSize, boolean floating) {
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /**
     * Whether kernels compute in this type (labels and indices are not computed on).
     *
     * @return whether kernels compute in this type (labels and indices are not computed on)
     */
    public boolean isFloating() {
        return floating;
    }

    /** {@return bytes per element} */
    public int byteSize() {
        return byteSize;
    }
}
