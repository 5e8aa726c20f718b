package dev.isthmus.data;

/**
 * A decoded image as planes of floats in [0, 1], row-major: one plane for a grey image (also when
 * three channels are wanted: the caller repeats it), three (R, G, B) for a colour one.
 */
record DecodedImage(int width, int height, float[][] planes) {
}
