package dev.isthmus.tensor;

/** Element types. F32 carries all numeric work; I32 carries class labels and indices. */
public enum DType {
    F32(4),
    I32(4);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }
}
