package dev.isthmus.device;

/**
 * Three sizes along the depth (D, frames of a clip), height and width axes of an NCDHW volume:
 * a volume's extent, or one setting of a 3-D kernel (size, stride, padding, dilation).
 */
public record Dims3(int depth, int height, int width) {

    /** The same size on every axis. */
    public static Dims3 cube(int size) {
        return new Dims3(size, size, size);
    }

    /** The size along axis 0 (depth), 1 (height) or 2 (width). */
    public int get(int axis) {
        return switch (axis) {
            case 0 -> depth;
            case 1 -> height;
            case 2 -> width;
            default -> throw new IndexOutOfBoundsException("Dims3 axis " + axis + " is not 0, 1 or 2");
        };
    }

    public long volume() {
        return (long) depth * height * width;
    }

    public boolean allAtLeast(int minimum) {
        return depth >= minimum && height >= minimum && width >= minimum;
    }

    public int[] toArray() {
        return new int[] {depth, height, width};
    }

    /** "3x3x3", or "3" when every axis agrees. */
    @Override
    public String toString() {
        return depth == height && height == width ? Integer.toString(depth) : depth + "x" + height + "x" + width;
    }
}
