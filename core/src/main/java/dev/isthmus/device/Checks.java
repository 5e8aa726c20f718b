package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * Argument validation shared by every device, run before any native call. Messages name the
 * operation and the shapes involved. The checks build no strings unless they fail, so they cost
 * nothing on the hot path.
 */
public final class Checks {
    /** "F32": the types the families compute in, for messages. */
    private static final String FLOATING_TYPES = java.util.Arrays.stream(DType.values()).filter(DType::isFloating)
            .map(DType::name).collect(java.util.stream.Collectors.joining(" or "));

    private Checks() {
    }

    /**
     * The tensor is open, lives on {@code device} and holds {@code dtype} elements.
     *
     * @param operation the operation, for the message
     * @param role the argument's name, for the message
     * @param tensor the tensor checked
     * @param device the device
     * @param dtype the element type
     */
    public static void tensor(String operation, String role, Tensor tensor, Device device, DType dtype) {
        if (tensor == null) {
            throw new IllegalArgumentException(operation + ": " + role + " is null");
        }
        tensor.ensureOpen();
        if (tensor.device() != device) {
            throw new IllegalArgumentException(operation + ": " + role + " " + tensor.shape() + " lives on "
                    + tensor.device().name() + ", but the operation runs on " + device.name());
        }
        if (tensor.dtype() != dtype) {
            throw new IllegalArgumentException(operation + ": " + role + " " + tensor.shape() + " is "
                    + tensor.dtype() + ", expected " + dtype);
        }
    }

    /**
     * The tensor is open, lives on {@code device} and holds a floating-point type the kernels
     * compute in; returns that type, which the operation's other operands must share.
     *
     * @param operation the operation, for the message
     * @param role the argument's name, for the message
     * @param tensor the tensor checked
     * @param device the device
     * @return the tensor's type, which the operation's other operands must share
     */
    public static DType floating(String operation, String role, Tensor tensor, Device device) {
        if (tensor == null) {
            throw new IllegalArgumentException(operation + ": " + role + " is null");
        }
        tensor(operation, role, tensor, device, tensor.dtype());
        if (!tensor.dtype().isFloating()) {
            throw new IllegalArgumentException(operation + ": " + role + " " + tensor.shape() + " is "
                    + tensor.dtype() + ", expected " + FLOATING_TYPES);
        }
        return tensor.dtype();
    }

    /**
     * Whether {@code tensor} holds the low precision {@code device} carries between layers (see
     * {@link Device#carriesLowPrecision}): the kernels that take it then accept it.
     *
     * @param tensor the tensor, or null
     * @param device the device
     * @return whether the tensor is BF16 (or F16) on a device that carries that type
     */
    public static boolean carriedLowPrecision(Tensor tensor, Device device) {
        return tensor != null && tensor.dtype().isLowPrecision() && device.carriesLowPrecision(tensor.dtype());
    }

    /**
     * Low-precision operands are not relaid out on the way: {@code tensor} must share
     * {@code reference}'s layout.
     *
     * @param operation the operation, for the message
     * @param role the tensor's name, for the message
     * @param tensor the tensor checked
     * @param reference the operand whose layout it must share
     */
    public static void sameLayout(String operation, String role, Tensor tensor, Tensor reference) {
        if (tensor.layout() != reference.layout()) {
            throw new IllegalArgumentException(operation + ": " + role + " is " + tensor.layout() + " but " + reference.layout()
                    + " is expected; " + tensor.dtype() + " operands are read in one layout");
        }
    }

    /**
     * Throws unless {@code tensor} is an open F32 tensor on {@code device}.
     *
     * @param operation the operation, for the message
     * @param role the argument's name, for the message
     * @param tensor the tensor checked
     * @param device the device
     */
    public static void f32(String operation, String role, Tensor tensor, Device device) {
        tensor(operation, role, tensor, device, DType.F32);
    }

    /**
     * Matrix kernels index memory directly: the tensor must be row-major.
     *
     * @param operation the operation, for the message
     * @param role the argument's name, for the message
     * @param tensor the tensor checked
     */
    public static void rowMajor(String operation, String role, Tensor tensor) {
        if (tensor.layout() != dev.isthmus.tensor.Layout.ROW_MAJOR) {
            throw new IllegalArgumentException(operation + ": " + role + " " + tensor.shape()
                    + " is channels-last; matrix operands must be row-major (copy it into one first)");
        }
    }

    /**
     * Throws unless the two tensors have the same shape.
     *
     * @param operation the operation, for the message
     * @param first the first tensor
     * @param firstRole the first tensor's name, for the message
     * @param second the second tensor
     * @param secondRole the second tensor's name, for the message
     */
    public static void sameShape(String operation, Tensor first, String firstRole, Tensor second, String secondRole) {
        if (!first.shape().equals(second.shape())) {
            throw new IllegalArgumentException(operation + ": " + firstRole + " " + first.shape() + " and "
                    + secondRole + " " + second.shape() + " must have the same shape");
        }
    }

    /**
     * Throws unless the two tensors hold the same number of elements.
     *
     * @param operation the operation, for the message
     * @param first the first tensor
     * @param firstRole the first tensor's name, for the message
     * @param second the second tensor
     * @param secondRole the second tensor's name, for the message
     */
    public static void sameCount(String operation, Tensor first, String firstRole, Tensor second, String secondRole) {
        if (first.elementCount() != second.elementCount()) {
            throw new IllegalArgumentException(operation + ": " + firstRole + " " + first.shape() + " and "
                    + secondRole + " " + second.shape() + " must have the same number of elements");
        }
    }

    /**
     * Throws unless {@code tensor} has the shape {@code expected}.
     *
     * @param operation the operation, for the message
     * @param role the argument's name, for the message
     * @param tensor the tensor checked
     * @param expected the shape it must have
     */
    public static void shape(String operation, String role, Tensor tensor, Shape expected) {
        if (!tensor.shape().equals(expected)) {
            throw new IllegalArgumentException(operation + ": " + role + " has shape " + tensor.shape()
                    + ", expected " + expected);
        }
    }

    /**
     * Throws unless {@code value} is at least 0.
     *
     * @param operation the operation, for the message
     * @param name the value's name, for the message
     * @param value the value checked
     */
    public static void nonNegative(String operation, String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(operation + ": " + name + " must be >= 0, got " + value);
        }
    }

    /**
     * Throws unless {@code value} is greater than 0.
     *
     * @param operation the operation, for the message
     * @param name the value's name, for the message
     * @param value the value checked
     */
    public static void positive(String operation, String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(operation + ": " + name + " must be > 0, got " + value);
        }
    }

    /**
     * Throws unless {@code value} is finite.
     *
     * @param operation the operation, for the message
     * @param name the value's name, for the message
     * @param value the value checked
     */
    public static void finite(String operation, String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(operation + ": " + name + " must be finite, got " + value);
        }
    }

    /**
     * A row-major matrix of {@code rows × cols} with leading dimension {@code ld} starting at
     * element {@code offset} lies inside {@code tensor}.
     *
     * @param operation the operation, for the message
     * @param role the argument's name, for the message
     * @param tensor the tensor checked
     * @param offset the element where the matrix starts
     * @param rows the matrix's rows
     * @param cols the matrix's columns
     * @param ld the leading dimension as stored
     */
    public static void matrix(String operation, String role, Tensor tensor, long offset, int rows, int cols, int ld) {
        if (offset < 0) {
            throw new IllegalArgumentException(operation + ": " + role + " offset must be >= 0, got " + offset);
        }
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(operation + ": " + role + " is " + rows + "x" + cols
                    + " (row-major) so its leading dimension must be >= " + Math.max(1, cols) + ", got " + ld);
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long last = offset + (long) (rows - 1) * ld + cols;
        if (last > tensor.elementCount()) {
            throw new IllegalArgumentException(operation + ": " + role + " of " + rows + "x" + cols + " with leading dimension "
                    + ld + " at offset " + offset + " needs " + last + " elements, but tensor " + tensor.shape()
                    + " has " + tensor.elementCount());
        }
    }
}
