package dev.isthmus.device;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/** The element-wise family: fill, addition, product, per-channel bias and its gradient. */
public final class ElementwiseKernels {
    /** What a device implements for this family; arguments arrive validated. */
    public interface Backend {
        /**
         * Sets every element to {@code value}.
         *
         * @param tensor the tensor
         * @param value the value
         */
        void fill(Tensor tensor, float value);

        /**
         * out ← a + b; out may be a or b; layouts may differ.
         *
         * @param a the first operand
         * @param b the second operand, of a's shape
         * @param out the result; may be one of the operands
         */
        void add(Tensor a, Tensor b, Tensor out);

        /**
         * out ← max(a + b, 0), the sum and the ReLU in one pass (a residual block's end); out may
         * be a or b; layouts may differ. The ReLU is the device's (as its activation kernels).
         *
         * @param a the first operand
         * @param b the second operand, of a's shape
         * @param out the result; may be one of the operands
         */
        void addRelu(Tensor a, Tensor b, Tensor out);

        /**
         * out ← a · b; out may be a or b; layouts may differ.
         *
         * @param a the first operand
         * @param b the second operand, of a's shape
         * @param out the result; may be one of the operands
         */
        void mul(Tensor a, Tensor b, Tensor out);

        /**
         * y[n, c, ...] += bias[c].
         *
         * @param y the tensor the bias is added to, [N, C, ...]
         * @param bias the bias, one per channel
         */
        void addBias(Tensor y, Tensor bias);

        /**
         * biasGrad[c] += Σ dy[n, c, ...].
         *
         * @param gradOutput dL/dy, of the output's shape
         * @param biasGrad dL/db, accumulated (null without a bias)
         */
        void biasGradient(Tensor gradOutput, Tensor biasGrad);

        /**
         * to ← from converted (F32 ↔ BF16/F16, rounding to nearest even); same shape.
         *
         * @param from the source
         * @param to   the destination
         */
        void convert(Tensor from, Tensor to);

        /**
         * to[:, toStart + i, ...] ← from[:, fromStart + i, ...] for i &lt; channels; every other
         * element of {@code to} is left alone; layouts may differ; the two do not overlap.
         *
         * @param from the source, [N, C1, ...]
         * @param fromStart the first source channel
         * @param to the destination, [N, C2, ...] with the source's other dimensions
         * @param toStart the first destination channel
         * @param channels how many channels
         */
        void copyChannels(Tensor from, int fromStart, Tensor to, int toStart, int channels);
    }

    private final Device device;
    private final Backend backend;

    ElementwiseKernels(Device device, Backend backend) {
        this.device = device;
        this.backend = backend;
    }

    /**
     * Every element of {@code tensor} ← value.
     *
     * @param tensor the tensor
     * @param value the value
     */
    public void fill(Tensor tensor, float value) {
        Checks.floating("fill", "tensor", tensor, device);
        try (Device.Guard ignored = device.enter()) {
            backend.fill(tensor, value);
        }
    }

    /**
     * out ← a + b, element-wise; out may be a or b.
     *
     * @param a the first operand
     * @param b the second operand, of a's shape
     * @param out the result; may be one of the operands
     */
    public void add(Tensor a, Tensor b, Tensor out) {
        checkSum("add", a, b, out);
        try (Device.Guard ignored = device.enter()) {
            backend.add(a, b, out);
        }
    }

    /**
     * out ← max(a + b, 0), element-wise, in one pass; out may be a or b. The ReLU's gradient can be
     * taken from out (out &gt; 0 exactly where a + b &gt; 0), so the sum need not be kept.
     *
     * @param a the first operand
     * @param b the second operand, of a's shape
     * @param out the result; may be one of the operands
     */
    public void addRelu(Tensor a, Tensor b, Tensor out) {
        checkSum("addRelu", a, b, out);
        try (Device.Guard ignored = device.enter()) {
            backend.addRelu(a, b, out);
        }
    }

    /**
     * out ← a · b, element-wise; out may be a or b.
     *
     * @param a the first operand
     * @param b the second operand, of a's shape
     * @param out the result; may be one of the operands
     */
    public void mul(Tensor a, Tensor b, Tensor out) {
        checkBinary("mul", a, b, out);
        try (Device.Guard ignored = device.enter()) {
            backend.mul(a, b, out);
        }
    }

    /**
     * A sum's operands: as {@link #checkBinary}, except that a and b may each be in the low
     * precision the device {@link Device#carriesLowPrecision carries} (a residual block's branches
     * ending in BF16 batch norm), then in out's layout (F32 ones are relaid out); out is F32, or
     * that type when a and b both are.
     */
    private void checkSum(String op, Tensor a, Tensor b, Tensor out) {
        boolean lowA = Checks.carriedLowPrecision(a, device);
        boolean lowB = Checks.carriedLowPrecision(b, device);
        if (!lowA && !lowB) {
            checkBinary(op, a, b, out);
            return;
        }
        // All three in the carried type (a BF16 block's sum), or F32 out from either type.
        DType result = lowA && lowB && out != null && out.dtype() == a.dtype() && b.dtype() == a.dtype() ? a.dtype() : DType.F32;
        Checks.tensor(op, "out", out, device, result);
        Checks.tensor(op, "a", a, device, a.dtype() == DType.F32 || lowA ? a.dtype() : DType.F32);
        Checks.tensor(op, "b", b, device, b.dtype() == DType.F32 || lowB ? b.dtype() : DType.F32);
        Checks.sameShape(op, a, "a", b, "b");
        Checks.sameShape(op, a, "a", out, "out");
        if (lowA) {
            Checks.sameLayout(op, "a", a, out);
        }
        if (lowB) {
            Checks.sameLayout(op, "b", b, out);
        }
    }

    private void checkBinary(String op, Tensor a, Tensor b, Tensor out) {
        DType dtype = Checks.floating(op, "a", a, device);
        Checks.tensor(op, "b", b, device, dtype);
        Checks.tensor(op, "out", out, device, dtype);
        Checks.sameShape(op, a, "a", b, "b");
        Checks.sameShape(op, a, "a", out, "out");
    }

    /**
     * y[n, c, ...] += bias[c] for y of shape [N, C, ...] and bias of shape [C].
     *
     * @param y the tensor the bias is added to, [N, C, ...]
     * @param bias the bias, one per channel
     */
    public void addBias(Tensor y, Tensor bias) {
        final String op = "addBias";
        DType dtype = Checks.floating(op, "tensor", y, device);
        Checks.tensor(op, "bias", bias, device, dtype);
        checkPerChannel(op, y, bias);
        try (Device.Guard ignored = device.enter()) {
            backend.addBias(y, bias);
        }
    }

    /**
     * biasGrad[c] += the sum of dy[n, c, ...] over every n and position.
     *
     * @param gradOutput dL/dy, of the output's shape
     * @param biasGrad dL/db, accumulated (null without a bias)
     */
    public void biasGradient(Tensor gradOutput, Tensor biasGrad) {
        final String op = "biasGradient";
        DType dtype = Checks.floating(op, "output gradient", gradOutput, device);
        Checks.tensor(op, "bias gradient", biasGrad, device, dtype);
        checkPerChannel(op, gradOutput, biasGrad);
        try (Device.Guard ignored = device.enter()) {
            backend.biasGradient(gradOutput, biasGrad);
        }
    }

    /**
     * {@code to} ← {@code from} in {@code to}'s element type: F32 to BF16 or F16 (rounded to the
     * nearest, ties to even, as PyTorch's {@code .to(torch.bfloat16)}; NaN stays NaN) or back
     * (exact). Mixed precision's casts; both tensors have one shape, and an F32 source in another
     * layout than the destination is brought to its layout on the way.
     *
     * @param from the source
     * @param to   the destination, of another element type
     */
    public void convert(Tensor from, Tensor to) {
        final String op = "convert";
        if (from == null || to == null) {
            throw new IllegalArgumentException(op + ": source and destination must not be null");
        }
        Checks.tensor(op, "source", from, device, from.dtype());
        Checks.tensor(op, "destination", to, device, to.dtype());
        boolean toLow = from.dtype() == DType.F32 && to.dtype().isLowPrecision();
        boolean fromLow = from.dtype().isLowPrecision() && to.dtype() == DType.F32;
        if (!toLow && !fromLow) {
            throw new IllegalArgumentException(op + ": converts F32 to BF16 or F16 and back, not " + from.dtype()
                    + " to " + to.dtype() + " (" + from.shape() + ")");
        }
        Checks.sameShape(op, from, "source", to, "destination");
        if (from.layout() != to.layout() && from.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": source " + from.shape() + " is " + from.layout()
                    + " but destination is " + to.layout() + "; a low-precision tensor converts within its layout");
        }
        if (from.layout() != to.layout() && !device.supports(to.layout())) {
            throw new IllegalArgumentException(op + ": destination " + to.shape() + " is " + to.layout() + ", which "
                    + device.name() + " does not keep tensors in");
        }
        if (from.sharesMemoryWith(to)) {
            throw new IllegalArgumentException(op + ": source and destination " + from.shape() + " overlap");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.convert(from, to);
        }
    }

    /**
     * Copies a run of channels (axis 1) from one tensor into another whose other dimensions are the
     * same: to[:, toStart + i, ...] ← from[:, fromStart + i, ...] for i &lt; channels, the rest of
     * {@code to} untouched. Concatenation along channels and its backward, the split, are made of it.
     *
     * @param from the source, [N, C1, ...]
     * @param fromStart the first source channel
     * @param to the destination, [N, C2, ...], of the source's type, device and other dimensions
     * @param toStart the first destination channel
     * @param channels how many channels (at least 1)
     * @throws IllegalArgumentException when the tensors or the channel ranges do not fit, naming the shapes
     */
    public void copyChannels(Tensor from, int fromStart, Tensor to, int toStart, int channels) {
        final String op = "copyChannels";
        if (from == null || to == null) {
            throw new IllegalArgumentException(op + ": source and destination must not be null");
        }
        DType dtype = Checks.floating(op, "source", from, device);
        Checks.tensor(op, "destination", to, device, dtype);
        Shape source = from.shape();
        Shape destination = to.shape();
        boolean sameOthers = source.rank() >= 2 && source.rank() == destination.rank() && source.dim(0) == destination.dim(0);
        for (int axis = 2; sameOthers && axis < source.rank(); axis++) {
            sameOthers = source.dim(axis) == destination.dim(axis);
        }
        if (!sameOthers) {
            throw new IllegalArgumentException(op + ": source " + source + " and destination " + destination
                    + " must agree on every dimension but the channels (axis 1)");
        }
        if (channels < 1 || fromStart < 0 || toStart < 0 || (long) fromStart + channels > source.dim(1)
                || (long) toStart + channels > destination.dim(1)) {
            throw new IllegalArgumentException(op + ": channels [" + fromStart + ", " + ((long) fromStart + channels)
                    + ") of " + source + " into channels [" + toStart + ", " + ((long) toStart + channels) + ") of "
                    + destination + " are out of range");
        }
        if (from.sharesMemoryWith(to)) {
            throw new IllegalArgumentException(op + ": source " + source + " and destination " + destination + " overlap");
        }
        try (Device.Guard ignored = device.enter()) {
            backend.copyChannels(from, fromStart, to, toStart, channels);
        }
    }

    private static void checkPerChannel(String op, Tensor batch, Tensor perChannel) {
        if (batch.shape().rank() < 2 || perChannel.shape().rank() != 1
                || perChannel.shape().dim(0) != batch.shape().dim(1)) {
            throw new IllegalArgumentException(op + ": per-channel tensor " + perChannel.shape()
                    + " does not match the channels (axis 1) of " + batch.shape());
        }
    }
}
