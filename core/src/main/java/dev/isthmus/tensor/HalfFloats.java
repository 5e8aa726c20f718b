package dev.isthmus.tensor;

/**
 * The scalar conversions between float and the 16-bit types, as PyTorch rounds them: to the
 * nearest representable value, ties to even; NaN stays a (quiet) NaN; bfloat16 overflows to
 * infinity only past its largest finite value, as float does.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /**
     * The bfloat16 bits of {@code value}: its upper 16 bits after rounding the lower 16 to nearest even.
     *
     * @param value a float
     * @return its bfloat16 bits
     */
    public static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            // A NaN: keep its sign and make it quiet, so that truncation cannot turn it into infinity.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * The float a bfloat16 stands for (exact).
     *
     * @param bits bfloat16 bits
     * @return the value
     */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /**
     * IEEE half-precision bits of {@code value} (the JDK rounds to nearest even).
     *
     * @param value a float
     * @return its binary16 bits
     */
    public static short toF16(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * The float an IEEE half stands for (exact).
     *
     * @param bits binary16 bits
     * @return the value
     */
    public static float fromF16(short bits) {
        return Float.float16ToFloat(bits);
    }
}
