package dev.isthmus.device;

/**
 * Three sizes along the depth (D, frames of a clip), height and width axes of an NCDHW volume:
 * a volume's extent, or one setting of a 3-D kernel (size, stride, padding, dilation).
 *
 * @param depth the size along the depth axis (D)
 * @param height the size along the height axis (H)
 * @param width the size along the width axis (W)
 */
public record Dims3(int depth, int height, int width) {

    /**
     * The same size on every axis, as PyTorch's 3-D layers read a single int.
     *
     * @param size the size along depth, height and width
     * @return {@code size} on all three axes
     */
    public static Dims3 cube(int size) {
        return new Dims3(size, size, size);
    }

    /**
     * The size along one axis, for code that loops over the three.
     *
     * @param axis 0 (depth), 1 (height) or 2 (width)
     * @return the size along that axis
     * @throws IndexOutOfBoundsException if {@code axis} is not 0, 1 or 2
     */
    public int get(int axis) {
        return switch (axis) {
            case 0 -> depth;
            case 1 -> height;
            case 2 -> width;
            default -> throw new IndexOutOfBoundsException("Dims3 axis " + axis + " is not 0, 1 or 2");
        };
    }

    /** {@return depth · height · width, as a long so that large volumes do not overflow} */
    public long volume() {
        return (long) depth * height * width;
    }

    /**
     * Whether every axis is at least {@code minimum}, for validating kernel sizes and strides.
     *
     * @param minimum the smallest allowed size
     * @return true when depth, height and width are all at least {@code minimum}
     */
    public boolean allAtLeast(int minimum) {
        return depth >= minimum && height >= minimum && width >= minimum;
    }

    /** {@return a new array [depth, height, width], the form native descriptors take the three sizes in} */
    public int[] toArray() {
        return new int[] {depth, height, width};
    }

    /** "3x3x3", or "3" when every axis agrees. */
    @Override
    public String toString() {
        return depth == height && height == width ? Integer.toString(depth) : depth + "x" + height + "x" + width;
    }
}
