package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

/**
 * The activation family: element-wise activation functions, softmax and dropout, and the functions
 * over a window of channels or pixels that AlexNet-style networks use (local response
 * normalisation, maxout, adaptive average pooling of any output size), forward and backward.
 */
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

        /**
         * Local response normalisation across channels (axis 1 of [N, C, ...]); see
         * {@link ActivationKernels#localResponseNormForward}.
         *
         * @param size the channel window
         * @param alpha the scale of the mean of squares
         * @param beta the exponent
         * @param k the additive constant
         * @param x the input
         * @param y the output
         */
        void localResponseNormForward(int size, float alpha, float beta, float k, Tensor x, Tensor y);

        /**
         * dL/dx of local response normalisation from the forward's input.
         *
         * @param size the channel window
         * @param alpha the scale of the mean of squares
         * @param beta the exponent
         * @param k the additive constant
         * @param x the forward's input
         * @param gradOutput dL/dy
         * @param gradInput dL/dx, written
         */
        void localResponseNormBackward(int size, float alpha, float beta, float k, Tensor x, Tensor gradOutput,
                                       Tensor gradInput);

        /**
         * Maxout over axis 1: y[n, g, ...] = max of x[n, g·pieces + j, ...] over j.
         *
         * @param pieces the channels per group
         * @param x the input, [N, C, ...]
         * @param y the output, [N, C / pieces, ...]
         */
        void maxoutForward(int pieces, Tensor x, Tensor y);

        /**
         * dL/dx of maxout: dy to each group's first maximum, 0 elsewhere.
         *
         * @param pieces the channels per group
         * @param x the forward's input
         * @param gradOutput dL/dy
         * @param gradInput dL/dx, written
         */
        void maxoutBackward(int pieces, Tensor x, Tensor gradOutput, Tensor gradInput);

        /**
         * Adaptive average pooling of [N, C, H, W] to [N, C, oh, ow] with PyTorch's windows.
         *
         * @param x the input
         * @param y the output
         */
        void adaptiveAvgPoolForward(Tensor x, Tensor y);

        /**
         * dL/dx of adaptive average pooling: each window's dy spread evenly over it.
         *
         * @param gradOutput dL/dy, [N, C, oh, ow]
         * @param gradInput dL/dx, [N, C, H, W], written
         */
        void adaptiveAvgPoolBackward(Tensor gradOutput, Tensor gradInput);
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
        DType dtype = activationType(op, function, x);
        Checks.tensor(op, "output", y, device, dtype);
        Checks.sameShape(op, x, "input", y, "output");
        sameLayout(op, dtype, x, y, "output");
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
        if (function == Activation.BINARY_STEP) {
            throw new IllegalArgumentException(op + ": BINARY_STEP is constant almost everywhere; it has no useful gradient");
        }
        DType dtype = activationType(op, function, x);
        Checks.tensor(op, "output", y, device, dtype);
        Checks.tensor(op, "output gradient", gradOutput, device, dtype);
        Checks.tensor(op, "input gradient", gradInput, device, dtype);
        Checks.sameShape(op, x, "input", y, "output");
        Checks.sameShape(op, x, "input", gradOutput, "output gradient");
        Checks.sameShape(op, x, "input", gradInput, "input gradient");
        sameLayout(op, dtype, x, y, "output");
        sameLayout(op, dtype, x, gradOutput, "output gradient");
        sameLayout(op, dtype, x, gradInput, "input gradient");
        try (Device.Guard ignored = device.enter()) {
            backend.backward(function, alpha, x, y, gradOutput, gradInput);
        }
    }

    /**
     * The type an activation computes in: the input's, which must be F32, or for ReLU the low
     * precision a device {@link Device#carriesLowPrecision carries} between layers.
     */
    private DType activationType(String op, Activation function, Tensor x) {
        if (function == Activation.RELU && Checks.carriedLowPrecision(x, device)) {
            Checks.tensor(op, "input", x, device, x.dtype());
            return x.dtype();
        }
        return Checks.floating(op, "input", x, device);
    }

    /** Low-precision operands share the input's layout (see {@link Checks#sameLayout}). */
    private static void sameLayout(String op, DType dtype, Tensor x, Tensor other, String role) {
        if (dtype != DType.F32) {
            Checks.sameLayout(op, role, other, x);
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

    /**
     * PyTorch's {@code local_response_norm} across channels of x [N, C, ...] (rank 3 or more):
     * y[c] = x[c] / (k + alpha/size · Σ x[j]²)^beta, the sum over channels j from c − size/2 to
     * c + (size − 1)/2 (integer halves), channels outside [0, C) counting as zeros (the divisor stays
     * {@code size}).
     *
     * @param size the channel window (&gt; 0)
     * @param alpha the scale of the mean of squares
     * @param beta the exponent
     * @param k the additive constant
     * @param x the input
     * @param y the output, of x's shape
     */
    public void localResponseNormForward(int size, float alpha, float beta, float k, Tensor x, Tensor y) {
        final String op = "local response norm forward";
        checkLrn(op, size, alpha, beta, k, x);
        Checks.tensor(op, "output", y, device, x.dtype());
        Checks.sameShape(op, x, "input", y, "output");
        try (Device.Guard ignored = device.enter()) {
            backend.localResponseNormForward(size, alpha, beta, k, x, y);
        }
    }

    /**
     * dL/dx of {@link #localResponseNormForward} from the forward's input x and dL/dy.
     *
     * @param size the channel window (&gt; 0)
     * @param alpha the scale of the mean of squares
     * @param beta the exponent
     * @param k the additive constant
     * @param x the forward's input
     * @param gradOutput dL/dy, of x's shape
     * @param gradInput dL/dx, of x's shape, written; must not be x or dL/dy
     */
    public void localResponseNormBackward(int size, float alpha, float beta, float k, Tensor x, Tensor gradOutput,
                                          Tensor gradInput) {
        final String op = "local response norm backward";
        checkLrn(op, size, alpha, beta, k, x);
        Checks.tensor(op, "output gradient", gradOutput, device, x.dtype());
        Checks.tensor(op, "input gradient", gradInput, device, x.dtype());
        Checks.sameShape(op, x, "input", gradOutput, "output gradient");
        Checks.sameShape(op, x, "input", gradInput, "input gradient");
        distinct(op, gradInput, x, gradOutput);
        try (Device.Guard ignored = device.enter()) {
            backend.localResponseNormBackward(size, alpha, beta, k, x, gradOutput, gradInput);
        }
    }

    private void checkLrn(String op, int size, float alpha, float beta, float k, Tensor x) {
        Checks.floating(op, "input", x, device);
        if (size <= 0) {
            throw new IllegalArgumentException(op + ": size must be > 0, got " + size);
        }
        if (!Float.isFinite(alpha) || !Float.isFinite(beta) || !Float.isFinite(k)) {
            throw new IllegalArgumentException(op + ": alpha, beta and k must be finite, got " + alpha + ", " + beta
                    + ", " + k);
        }
        if (x.shape().rank() < 3) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " must be [N, C, ...] of rank 3 or more");
        }
    }

    /**
     * Maxout over axis 1: y[n, g, ...] = max over j in [0, pieces) of x[n, g·pieces + j, ...], as
     * {@code x.view(N, C/pieces, pieces, ...).max(2)} (NaN wins, as in torch.max).
     *
     * @param pieces the channels per group (&gt; 0, dividing C)
     * @param x the input, [N, C, ...] (rank 2 or more)
     * @param y the output, [N, C / pieces, ...]
     */
    public void maxoutForward(int pieces, Tensor x, Tensor y) {
        final String op = "maxout forward";
        checkMaxout(op, pieces, x, y, "output");
        try (Device.Guard ignored = device.enter()) {
            backend.maxoutForward(pieces, x, y);
        }
    }

    /**
     * dL/dx of maxout: each group's dL/dy goes to its first maximal input (torch.max's index on
     * ties), the rest of the group gets 0.
     *
     * @param pieces the channels per group
     * @param x the forward's input, [N, C, ...]
     * @param gradOutput dL/dy, [N, C / pieces, ...]
     * @param gradInput dL/dx, of x's shape, written; must not be x or dL/dy
     */
    public void maxoutBackward(int pieces, Tensor x, Tensor gradOutput, Tensor gradInput) {
        final String op = "maxout backward";
        checkMaxout(op, pieces, x, gradOutput, "output gradient");
        Checks.tensor(op, "input gradient", gradInput, device, x.dtype());
        Checks.sameShape(op, x, "input", gradInput, "input gradient");
        distinct(op, gradInput, x, gradOutput);
        try (Device.Guard ignored = device.enter()) {
            backend.maxoutBackward(pieces, x, gradOutput, gradInput);
        }
    }

    private void checkMaxout(String op, int pieces, Tensor x, Tensor grouped, String groupedRole) {
        DType dtype = Checks.floating(op, "input", x, device);
        Checks.tensor(op, groupedRole, grouped, device, dtype);
        if (x.shape().rank() < 2) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " must be [N, C, ...]");
        }
        if (pieces <= 0 || x.shape().dim(1) % pieces != 0) {
            throw new IllegalArgumentException(op + ": pieces " + pieces + " must be > 0 and divide the "
                    + x.shape().dim(1) + " channels of " + x.shape());
        }
        int[] dims = x.shape().dims();
        dims[1] /= pieces;
        Checks.shape(op, groupedRole, grouped, dev.isthmus.tensor.Shape.of(dims));
    }

    /**
     * PyTorch's adaptive average pooling of x [N, C, H, W] to y [N, C, oh, ow]: output (i, j) is
     * the mean of rows floor(i·H/oh) to ceil((i+1)·H/oh) − 1 and the like for columns, so windows
     * may differ in size and overlap.
     *
     * @param x the input
     * @param y the output; its shape gives oh and ow
     */
    public void adaptiveAvgPoolForward(Tensor x, Tensor y) {
        final String op = "adaptive average pool forward";
        checkAdaptive(op, x, "input", y, "output");
        try (Device.Guard ignored = device.enter()) {
            backend.adaptiveAvgPoolForward(x, y);
        }
    }

    /**
     * dL/dx of {@link #adaptiveAvgPoolForward}: each output's gradient divided by its window's size
     * and added over the window (overlapping windows both contribute).
     *
     * @param gradOutput dL/dy, [N, C, oh, ow]
     * @param gradInput dL/dx, [N, C, H, W], written
     */
    public void adaptiveAvgPoolBackward(Tensor gradOutput, Tensor gradInput) {
        final String op = "adaptive average pool backward";
        checkAdaptive(op, gradInput, "input gradient", gradOutput, "output gradient");
        if (gradInput.sharesMemoryWith(gradOutput)) {
            throw new IllegalArgumentException(op + ": input and output gradients overlap");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.adaptiveAvgPoolBackward(gradOutput, gradInput);
        }
    }

    private void checkAdaptive(String op, Tensor full, String fullRole, Tensor pooled, String pooledRole) {
        DType dtype = Checks.floating(op, fullRole, full, device);
        Checks.tensor(op, pooledRole, pooled, device, dtype);
        if (full.shape().rank() != 4 || pooled.shape().rank() != 4) {
            throw new IllegalArgumentException(op + ": " + fullRole + " " + full.shape() + " and " + pooledRole + " "
                    + pooled.shape() + " must be [N, C, H, W]");
        }
        for (int axis = 0; axis < 4; axis++) {
            int size = pooled.shape().dim(axis);
            boolean fits = axis < 2 ? size == full.shape().dim(axis) : size > 0;
            if (!fits) {
                throw new IllegalArgumentException(op + ": " + pooledRole + " " + pooled.shape() + " does not fit "
                        + fullRole + " " + full.shape() + " (same N and C, output size > 0)");
            }
        }
    }

    private static void distinct(String op, Tensor written, Tensor... read) {
        for (Tensor other : read) {
            if (written.sharesMemoryWith(other)) {
                throw new IllegalArgumentException(op + ": input gradient " + written.shape()
                        + " overlaps an operand it is computed from");
            }
        }
    }
}
