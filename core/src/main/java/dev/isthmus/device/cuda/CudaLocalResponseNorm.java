package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * PyTorch's local response normalisation through cuDNN's cross-channel LRN, where the two agree.
 * cuDNN (cudnn_ops.h) sums channels c − floor((n−1)/2) to c + n − 1 − floor((n−1)/2) and divides
 * alpha by n; PyTorch sums c − n/2 to c + (n−1)/2, also with alpha/n and zeros beyond the edges.
 * For odd n the windows are the same; for even n cuDNN's reaches one channel less down and one
 * more up, so even sizes are refused here rather than computed differently. cuDNN also limits
 * n to 1..16, k to at least 1e-5 and beta to at least 0.01 (CUDNN_LRN_MIN_N/MAX_N/MIN_K/MIN_BETA):
 * outside those the operation is refused with the reason, before any native call.
 *
 * <p>An [N, C, ...] tensor of any rank is viewed as [N, C, inner, 1]: the window runs over
 * channels only. cuDNN's backward needs the forward's output, which the activation family's
 * contract does not pass, so backward recomputes it into a scratch buffer kept from the first call
 * (grown only when a larger input comes; no allocation in a steady step). Descriptors are made
 * once per shape and per setting, found again by a scan of a short list.
 *
 * <p>Written from cuDNN 9's headers and never run on a GPU in this repository's history (the
 * conformance test CudaVolumeConformanceTest compares it with the CPU device where a GPU exists).
 */
final class CudaLocalResponseNorm implements AutoCloseable {
    private record View(Shape shape, MemorySegment handle) {
    }

    private record Setting(int size, float alpha, float beta, float k, MemorySegment handle) {
    }

    private final CudaDevice cuda;
    private final Arena arena = Arena.ofShared();
    private final List<View> views = new ArrayList<>();
    private final List<Setting> settings = new ArrayList<>();
    private Tensor scratch;

    CudaLocalResponseNorm(CudaDevice cuda) {
        this.cuda = cuda;
    }

    /**
     * Why cuDNN cannot compute PyTorch's LRN of these settings on this input, or null when it can.
     * Package-private so the refusal is testable without a GPU.
     */
    static String whyNot(int size, float alpha, float beta, float k, Shape shape, DType dtype) {
        if (dtype != DType.F32) {
            return "the cuDNN path takes F32 tensors, got " + dtype;
        }
        if (size % 2 == 0) {
            return "size " + size + " is even: cuDNN's window looks back floor((n-1)/2) = " + (size - 1) / 2
                    + " channels, PyTorch's n/2 = " + size / 2 + ", so the results would differ (use an odd size)";
        }
        if (size < cudnn_h.CUDNN_LRN_MIN_N() || size > cudnn_h.CUDNN_LRN_MAX_N()) {
            return "size " + size + " is outside cuDNN's " + cudnn_h.CUDNN_LRN_MIN_N() + ".." + cudnn_h.CUDNN_LRN_MAX_N();
        }
        // The layer keeps floats: a minimum is compared in float, so that 0.01 as written is accepted
        // (see atLeast for what cuDNN then receives).
        if (k < (float) cudnn_h.CUDNN_LRN_MIN_K()) {
            return "k " + k + " is below cuDNN's minimum " + cudnn_h.CUDNN_LRN_MIN_K();
        }
        if (beta < (float) cudnn_h.CUDNN_LRN_MIN_BETA()) {
            return "beta " + beta + " is below cuDNN's minimum " + cudnn_h.CUDNN_LRN_MIN_BETA();
        }
        long perChannel = shape.elementCount() / Math.max(1, (long) shape.dim(0) * shape.dim(1));
        if (shape.elementCount() > Integer.MAX_VALUE || perChannel > Integer.MAX_VALUE) {
            return "input " + shape + " has more than 2^31 - 1 elements, more than one cuDNN tensor holds";
        }
        return null;
    }

    private static void require(String op, int size, float alpha, float beta, float k, Tensor x) {
        String why = whyNot(size, alpha, beta, k, x.shape(), x.dtype());
        if (why != null) {
            throw new UnsupportedOperationException(op + " of " + x.shape() + " (size " + size + ", alpha " + alpha + ", beta "
                    + beta + ", k " + k + ") on CUDA: " + why + "; it runs on the CPU device");
        }
    }

    void forward(int size, float alpha, float beta, float k, Tensor x, Tensor y) {
        require("local response norm forward", size, alpha, beta, k, x);
        cuda.requireRowMajor(x, y);
        if (x.elementCount() == 0) {
            return;
        }
        cuda.enterContext();
        MemorySegment view = view(x.shape());
        Cudnn.check(cudnn_h.cudnnLRNCrossChannelForward(cuda.cudnn(), setting(size, alpha, beta, k),
                cudnn_h.CUDNN_LRN_CROSS_CHANNEL_DIM1(), cuda.one(), view, x.memory(), cuda.zero(), view, y.memory()),
                "cudnnLRNCrossChannelForward for " + x.shape() + " (size " + size + ")");
        cuda.afterOperation("local response norm forward");
    }

    void backward(int size, float alpha, float beta, float k, Tensor x, Tensor gradOutput, Tensor gradInput) {
        require("local response norm backward", size, alpha, beta, k, x);
        cuda.requireRowMajor(x, gradInput);
        cuda.requireRowMajor(gradOutput, gradInput);
        if (x.elementCount() == 0) {
            return;
        }
        cuda.enterContext();
        MemorySegment view = view(x.shape());
        MemorySegment norm = setting(size, alpha, beta, k);
        Tensor y = scratch(x.elementCount());
        Cudnn.check(cudnn_h.cudnnLRNCrossChannelForward(cuda.cudnn(), norm, cudnn_h.CUDNN_LRN_CROSS_CHANNEL_DIM1(), cuda.one(),
                view, x.memory(), cuda.zero(), view, y.memory()),
                "cudnnLRNCrossChannelForward (recomputed for backward) for " + x.shape() + " (size " + size + ")");
        Cudnn.check(cudnn_h.cudnnLRNCrossChannelBackward(cuda.cudnn(), norm, cudnn_h.CUDNN_LRN_CROSS_CHANNEL_DIM1(), cuda.one(),
                view, y.memory(), view, gradOutput.memory(), view, x.memory(), cuda.zero(), view, gradInput.memory()),
                "cudnnLRNCrossChannelBackward for " + x.shape() + " (size " + size + ")");
        cuda.afterOperation("local response norm backward");
    }

    /** A device buffer of at least {@code count} floats for the recomputed output, kept between calls. */
    private Tensor scratch(long count) {
        if (scratch == null || scratch.elementCount() < count) {
            if (scratch != null) {
                scratch.close();
                scratch = null;
            }
            scratch = cuda.allocate(Shape.of(Math.toIntExact(count)));
        }
        return scratch;
    }

    private MemorySegment view(Shape shape) {
        for (int i = 0; i < views.size(); i++) {
            if (views.get(i).shape().equals(shape)) {
                return views.get(i).handle();
            }
        }
        MemorySegment handle = Cudnn.channelView(arena, shape);
        views.add(new View(shape, handle));
        return handle;
    }

    private MemorySegment setting(int size, float alpha, float beta, float k) {
        for (int i = 0; i < settings.size(); i++) {
            Setting s = settings.get(i);
            if (s.size() == size && s.alpha() == alpha && s.beta() == beta && s.k() == k) {
                return s.handle();
            }
        }
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        Cudnn.check(cudnn_h.cudnnCreateLRNDescriptor(out), "cudnnCreateLRNDescriptor");
        MemorySegment handle = out.get(ValueLayout.ADDRESS, 0);
        try {
            Cudnn.check(cudnn_h.cudnnSetLRNDescriptor(handle, size, alpha, atLeast(beta, cudnn_h.CUDNN_LRN_MIN_BETA()),
                    atLeast(k, cudnn_h.CUDNN_LRN_MIN_K())),
                    "cudnnSetLRNDescriptor (size " + size + ", alpha " + alpha + ", beta " + beta + ", k " + k + ")");
        } catch (RuntimeException e) {
            cudnn_h.cudnnDestroyLRNDescriptor(handle);
            throw e;
        }
        settings.add(new Setting(size, alpha, beta, k, Objects.requireNonNull(handle)));
        return handle;
    }

    /**
     * {@code value} widened to double, or cuDNN's double {@code minimum} where the float equals the
     * minimum rounded to float (0.01f is 0.0099999998 as a double, which cuDNN would reject); the
     * difference is below float precision, so the result does not change.
     */
    static double atLeast(float value, double minimum) {
        return Math.max(value, minimum);
    }

    @Override
    public void close() {
        for (Setting s : settings) {
            cudnn_h.cudnnDestroyLRNDescriptor(s.handle());
        }
        settings.clear();
        for (View v : views) {
            Cudnn.destroyTensor(v.handle());
        }
        views.clear();
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
        arena.close();
    }
}
