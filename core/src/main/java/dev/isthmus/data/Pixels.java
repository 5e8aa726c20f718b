package dev.isthmus.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Conversion of uint8 pixels to floats in [0, 1]. */
final class Pixels {
    /**
     * {@code value / 255f} for every byte value: a correctly rounded float division, so the
     * result is bit-identical to torchvision's {@code ToTensor} ({@code img.float().div(255)}).
     */
    private static final float[] TO_UNIT = new float[256];

    static {
        for (int value = 0; value < 256; value++) {
            TO_UNIT[value] = value / 255f;
        }
    }

    private Pixels() {
    }

    static float toUnit(int unsignedByte) {
        return TO_UNIT[unsignedByte];
    }

    /** Writes {@code count} pixels starting at {@code pixels[from]} as floats at element {@code floatOffset}. */
    static void writeScaled(byte[] pixels, int from, int count, MemorySegment destination, long floatOffset) {
        for (int i = 0; i < count; i++) {
            destination.setAtIndex(ValueLayout.JAVA_FLOAT, floatOffset + i, TO_UNIT[pixels[from + i] & 0xFF]);
        }
    }
}
