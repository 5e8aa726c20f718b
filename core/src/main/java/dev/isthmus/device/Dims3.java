package dev.isthmus.device;

/**
 * Three sizes along the depth (D, frames of a clip), height and width axes of an NCDHW volume:
 * a volume's extent, or one setting of a 3-D kernel (size, stride, padding, dilation).
 *
 * @param depth the size along depth (frames)
 * @param height the height
 * @param width the width
 */
public record Dims3(int depth, int height, int width) {

    /**
     * The same size on every axis.
     *
     * @param size the size on every axis
     * @return the cube
     */
    public static Dims3 cube(int size) {
        return new Dims3(size, size, size);
    }

    /**
     * The size along axis 0 (depth), 1 (height) or 2 (width).
     *
     * @param axis the axis: 0 depth, 1 height, 2 width
     * @return the get
     */
    public int get(int axis) {
        return switch (axis) {
            case 0 -> depth;
            case 1 -> height;
            case 2 -> width;
            default -> throw new IndexOutOfBoundsException("Dims3 axis " + axis + " is not 0, 1 or 2");
        };
    }

    /** {@return the volume} */
    public long volume() {
        return (long) depth * height * width;
    }

    /**
     * {@return whether all at least}
     *
     * @param minimum the least value
     */
    public boolean allAtLeast(int minimum) {
        return depth >= minimum && height >= minimum && width >= minimum;
    }

    /** {@return the to array} */
    public int[] toArray() {
        return new int[] {depth, height, width};
    }

    /** "3x3x3", or "3" when every axis agrees. */
    @Override
    public String toString() {
        return depth == height && height == width ? Integer.toString(depth) : depth + "x" + height + "x" + width;
    }
}
