package dev.isthmus.tensor;

/**
 * Element types. F32 carries all numeric work; I32 carries class labels and indices. BF16 and F16
 * are the low-precision operands of mixed precision ({@code dev.isthmus.nn.Precision}): the
 * inputs and output gradients that convolutions and GEMMs read, converted from F32 by
 * {@code device.elementwise().convert}. Every other kernel computes in F32, as PyTorch's autocast
 * keeps statistics, losses, reductions and optimizer steps in float32.
 */
public enum DType {
    /** 32-bit IEEE float. */
    F32(4, true),
    /** 32-bit signed integer. */
    I32(4, false),
    /** bfloat16: F32's exponent range with 8 bits of mantissa (relative spacing 2^-8). */
    BF16(2, false),
    /** IEEE half precision (GPUs): 11 bits of mantissa, a range up to 65504, hence loss scaling. */
    F16(2, false);

    private final int byteSize;
    private final boolean computed;

    DType(int byteSize, boolean computed) {
        this.byteSize = byteSize;
        this.computed = computed;
    }

    /**
     * Whether the kernel families compute in this type (F32 only: labels are not computed on, and
     * the low-precision types are only operands of the convolution and GEMM plans that accept them).
     *
     * @return whether the kernel families compute in this type
     */
    public boolean isFloating() {
        return computed;
    }

    /** {@return whether this is one of the 16-bit floating-point types of mixed precision} */
    public boolean isLowPrecision() {
        return this == BF16 || this == F16;
    }

    /** {@return bytes per element} */
    public int byteSize() {
        return byteSize;
    }
}
