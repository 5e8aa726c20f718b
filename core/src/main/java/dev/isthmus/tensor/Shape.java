package dev.isthmus.tensor;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first (NCHW for images). Immutable. Every dimension is
 * non-negative and the element count fits in a {@code long} and in the 2^31-1 element limit that
 * BLAS index arithmetic imposes.
 */
public final class Shape {
    /** BLAS and cuDNN index with 32-bit integers; larger tensors are refused up front. */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE;

    private final int[] dims;
    private final long elementCount;

    private Shape(int[] dims) {
        this.dims = dims;
        long count = 1;
        for (int dim : dims) {
            if (dim < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has a negative dimension");
            }
            count = Math.multiplyExact(count, (long) dim);
            if (count > MAX_ELEMENTS) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than "
                        + MAX_ELEMENTS + " elements");
            }
        }
        this.elementCount = count;
    }

    /**
     * {@return the shape with these dimensions, each at least 0}
     *
     * @param dims the dimensions
     */
    public static Shape of(int... dims) {
        if (dims == null) {
            throw new IllegalArgumentException("shape dimensions must not be null");
        }
        return new Shape(dims.clone());
    }

    /** {@return the number of dimensions} */
    public int rank() {
        return dims.length;
    }

    /**
     * Dimension {@code axis}; negative axes count from the end, as in PyTorch.
     *
     * @param axis the axis; negative counts from the end
     * @return dimension {@code axis}; negative axes count from the end, as in PyTorch
     */
    public int dim(int axis) {
        int resolved = axis < 0 ? dims.length + axis : axis;
        if (resolved < 0 || resolved >= dims.length) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for shape " + this);
        }
        return dims[resolved];
    }

    /** {@return a copy of the dimensions} */
    public int[] dims() {
        return dims.clone();
    }

    /** {@return the product of the dimensions} */
    public long elementCount() {
        return elementCount;
    }

    /**
     * Product of the dimensions after the first: the features per sample of a batch.
     *
     * @return product of the dimensions after the first: the features per sample of a batch
     */
    public int featuresPerSample() {
        if (dims.length == 0) {
            throw new IllegalArgumentException("a scalar shape has no batch dimension");
        }
        return dims[0] == 0 ? 0 : (int) (elementCount / dims[0]);
    }

    /**
     * This shape with the first (batch) dimension replaced.
     *
     * @param batch the batch
     * @return this shape with the first (batch) dimension replaced
     */
    public Shape withBatch(int batch) {
        int[] copy = dims.clone();
        copy[0] = batch;
        return new Shape(copy);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Shape shape && Arrays.equals(dims, shape.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
