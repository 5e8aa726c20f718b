package dev.isthmus.device;

/** Whether a GEMM operand is used as stored or transposed. */
public enum Transpose {
    NO,
    YES;

    public static Transpose of(boolean transposed) {
        return transposed ? YES : NO;
    }
}
