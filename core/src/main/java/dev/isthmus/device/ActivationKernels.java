package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/** The activation family: element-wise activation functions, softmax and dropout, forward and backward. */
public final class ActivationKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        /**
         * y = f(x); {@code alpha} is LeakyReLU's slope or ELU's alpha; y may be x; layouts may differ.
         *
         * @param function the activation function
         * @param alpha LeakyReLU's slope or ELU's alpha (0 when unused)
         * @param x the input
         * @param y the output
         */
        void forward(Activation function, float alpha, Tensor x, Tensor y);

        /**
         * dx = f'(x) · dy from the forward's input and output; dx may be dy.
         *
         * @param function the activation function
         * @param alpha LeakyReLU's slope or ELU's alpha (0 when unused)
         * @param x the input
         * @param y the output
         * @param gradOutput dL/dy
         * @param gradInput dL/dx, written; may be {@code gradOutput}
         */
        void backward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput);

        /**
         * Softmax (or log-softmax) over axis 1 of x: [N, C] or [N, C, ...].
         *
         * @param log true for log-softmax
         * @param x the input
         * @param y the output
         */
        void softmaxForward(boolean log, Tensor x, Tensor y);

        /**
         * dL/dx of softmax (or log-softmax) over axis 1, from the forward's output.
         *
         * @param log true for log-softmax
         * @param y the output
         * @param gradOutput dL/dy
         * @param gradInput dL/dx, written; may be {@code gradOutput}
         */
        void softmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput);

        /**
         * Inverted dropout with a counter-based mask; see {@link ActivationKernels#dropoutForward}.
         *
         * @param x the input
         * @param y the output
         * @param mask the dropout mask, written
         * @param p the probability of zeroing an element, in [0, 1)
         * @param seed the layer's stream
         * @param counter the layer's draw number (one per forward)
         */
        void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter);
    }

    private final Device device;
    private final Backend backend;

    ActivationKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /**
     * y = f(x) element-wise; {@code alpha} is LeakyReLU's slope or ELU's alpha. y may be x.
     *
     * @param function the activation function
     * @param alpha LeakyReLU's slope or ELU's alpha (0 when unused)
     * @param x the input
     * @param y the output
     */
    public void forward(Activation function, float alpha, Tensor x, Tensor y) {
        final String op = "activation forward";
        if (function == null) {
            throw new IllegalArgumentException(op + ": function must not be null");
        }
        DType dtype = Checks.floating(op, "input", x, device);
        Checks.tensor(op, "output", y, device, dtype);
        Checks.sameShape(op, x, "input", y, "output");
        try (Device.Guard ignored = device.enter()) {
            backend.forward(function, alpha, x, y);
        }
    }

    /**
     * dx = f'(x) · dy, given the forward's input x and output y. dx may be dy.
     *
     * @param function the activation function
     * @param alpha LeakyReLU's slope or ELU's alpha (0 when unused)
     * @param x the input
     * @param y the output
     * @param gradOutput dL/dy
     * @param gradInput dL/dx, written; may be {@code gradOutput}
     */
    public void backward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput,
                         Tensor gradInput) {
        final String op = "activation backward";
        if (function == null) {
            throw new IllegalArgumentException(op + ": function must not be null");
        }
        DType dtype = Checks.floating(op, "input", x, device);
        Checks.tensor(op, "output", y, device, dtype);
        Checks.tensor(op, "output gradient", gradOutput, device, dtype);
        Checks.tensor(op, "input gradient", gradInput, device, dtype);
        Checks.sameShape(op, x, "input", y, "output");
        Checks.sameShape(op, x, "input", gradOutput, "output gradient");
        Checks.sameShape(op, x, "input", gradInput, "input gradient");
        try (Device.Guard ignored = device.enter()) {
            backend.backward(function, alpha, x, y, gradOutput, gradInput);
        }
    }

    /**
     * Softmax (or log-softmax) over axis 1 of x: [N, C] or [N, C, ...].
     *
     * @param log true for log-softmax
     * @param x the input
     * @param y the output
     */
    public void softmaxForward(boolean log, Tensor x, Tensor y) {
        final String op = log ? "log-softmax forward" : "softmax forward";
        DType dtype = Checks.floating(op, "input", x, device);
        Checks.tensor(op, "output", y, device, dtype);
        Checks.sameShape(op, x, "input", y, "output");
        if (x.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " needs at least [N, C]");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.softmaxForward(log, x, y);
        }
    }

    /**
     * dx from the forward's output y and dy.
     *
     * @param log true for log-softmax
     * @param y the output
     * @param gradOutput dL/dy
     * @param gradInput dL/dx, written; may be {@code gradOutput}
     */
    public void softmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput) {
        final String op = log ? "log-softmax backward" : "softmax backward";
        DType dtype = Checks.floating(op, "output", y, device);
        Checks.tensor(op, "output gradient", gradOutput, device, dtype);
        Checks.tensor(op, "input gradient", gradInput, device, dtype);
        Checks.sameShape(op, y, "output", gradOutput, "output gradient");
        Checks.sameShape(op, y, "output", gradInput, "input gradient");
        if (y.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": output " + y.shape() + " needs at least [N, C]");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.softmaxBackward(log, y, gradOutput, gradInput);
        }
    }

    /**
     * Inverted dropout: mask[i] = 0 with probability p, else 1/(1 − p); y = x · mask. The mask
     * comes from a counter-based generator: element i of call {@code counter} under {@code seed}
     * gets the same draw on every device.
     *
     * @param x the input
     * @param y the output
     * @param mask the dropout mask, written
     * @param p the probability of zeroing an element, in [0, 1)
     * @param seed the layer's stream
     * @param counter the layer's draw number (one per forward)
     */
    public void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        final String op = "dropout forward";
        DType dtype = Checks.floating(op, "input", x, device);
        Checks.tensor(op, "output", y, device, dtype);
        Checks.tensor(op, "mask", mask, device, dtype);
        Checks.sameShape(op, x, "input", y, "output");
        Checks.sameShape(op, x, "input", mask, "mask");
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(op + ": p must be in [0, 1), got " + p);
        }
        try (Device.Guard ignored = device.enter()) {
            backend.dropoutForward(x, y, mask, p, seed, counter);
        }
    }

}
