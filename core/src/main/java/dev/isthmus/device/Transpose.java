package dev.isthmus.device;

/** Whether a GEMM operand is used as stored or transposed. */
public enum Transpose {
    /** The operand as stored. */
    NO,
    /** The operand transposed. */
    YES;

    /**
     * {@return YES for true, NO for false}
     *
     * @param transposed whether the operand is transposed
     */
    public static Transpose of(boolean transposed) {
        return transposed ? YES : NO;
    }
}
