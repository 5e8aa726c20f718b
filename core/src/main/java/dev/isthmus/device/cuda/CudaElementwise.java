package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.Activation;
import dev.isthmus.device.ActivationKernels;
import dev.isthmus.device.ElementwiseKernels;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The CUDA device's element-wise and activation families: cuDNN for the activations and softmax it
 * has (ReLU, sigmoid, tanh, ELU; local response normalisation of odd sizes), the PTX kernels for the rest (fill, add, mul, bias and its
 * gradient, leaky ReLU, GELU, dropout). cuDNN descriptors are made once per shape and found again
 * by a scan of a short list.
 */
final class CudaElementwise implements ElementwiseKernels.Backend, ActivationKernels.Backend, AutoCloseable {
    /** A cached cuDNN descriptor: a tensor view of {@code shape}, or an activation of {@code mode} and {@code coefficient}. */
    private record Descriptor(int kind, Shape shape, int mode, double coefficient, MemorySegment handle) {
    }

    private static final int TENSOR = 0;
    private static final int CHANNELS = 1;
    private static final int ACTIVATION = 2;

    private final CudaDevice cuda;
    private final CudaKernels kernels;
    private final Arena arena = Arena.ofShared();
    private final List<Descriptor> descriptors = new ArrayList<>();
    private final CudaLocalResponseNorm lrn;

    CudaElementwise(CudaDevice cuda, CudaKernels kernels) {
        this.cuda = cuda;
        this.kernels = kernels;
        this.lrn = new CudaLocalResponseNorm(cuda);
    }

    private MemorySegment descriptor(int kind, Shape shape) {
        return descriptor(kind, shape, -1, 0);
    }

    private MemorySegment activationDescriptor(int mode, double coefficient) {
        return descriptor(ACTIVATION, null, mode, coefficient);
    }

    private MemorySegment descriptor(int kind, Shape shape, int mode, double coefficient) {
        for (int i = 0; i < descriptors.size(); i++) {
            Descriptor d = descriptors.get(i);
            if (d.kind == kind && d.mode == mode && d.coefficient == coefficient && Objects.equals(d.shape, shape)) {
                return d.handle;
            }
        }
        MemorySegment handle;
        if (kind == ACTIVATION) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cudnn.check(cudnn_h.cudnnCreateActivationDescriptor(out), "cudnnCreateActivationDescriptor");
            handle = out.get(ValueLayout.ADDRESS, 0);
            Cudnn.check(cudnn_h.cudnnSetActivationDescriptor(handle, mode, cudnn_h.CUDNN_PROPAGATE_NAN(), coefficient),
                    "cudnnSetActivationDescriptor");
        } else if (kind == CHANNELS) {
            handle = Cudnn.channelView(arena, shape);
        } else {
            // Element-wise work ignores the shape: one long row.
            handle = Cudnn.tensor(arena, 1, 1, 1, Math.toIntExact(shape.elementCount()));
        }
        descriptors.add(new Descriptor(kind, shape, mode, coefficient, handle));
        return handle;
    }

    private static int cudnnMode(Activation function) {
        return switch (function) {
            case RELU -> cudnn_h.CUDNN_ACTIVATION_RELU();
            case SIGMOID -> cudnn_h.CUDNN_ACTIVATION_SIGMOID();
            case TANH -> cudnn_h.CUDNN_ACTIVATION_TANH();
            case ELU -> cudnn_h.CUDNN_ACTIVATION_ELU();
            default -> -1;
        };
    }

    @Override
    public void fill(Tensor tensor, float value) {
        cuda.enterContext();
        CudaDriver.check(cuda_h.cuMemsetD32Async(tensor.memory().address(), Float.floatToRawIntBits(value), tensor.elementCount(),
                cuda.stream()), "cuMemsetD32Async");
        cuda.afterOperation("fill");
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        binary("add_f32", a, b, out);
    }

    @Override
    public void addRelu(Tensor a, Tensor b, Tensor out) {
        binary("add_relu_f32", a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        binary("mul_f32", a, b, out);
    }

    private void binary(String kernel, Tensor a, Tensor b, Tensor out) {
        cuda.enterContext();
        kernels.pointer(0, a.memory()).pointer(1, b.memory()).pointer(2, out.memory()).int64(3, out.elementCount())
                .launch(kernel, out.elementCount(), cuda.stream());
        cuda.afterOperation(kernel);
    }

    @Override
    public void convert(Tensor from, Tensor to) {
        String kernel = "convert_" + from.dtype().name().toLowerCase(java.util.Locale.ROOT) + "_to_"
                + to.dtype().name().toLowerCase(java.util.Locale.ROOT);
        cuda.enterContext();
        kernels.pointer(0, from.memory()).pointer(1, to.memory()).int64(2, from.elementCount())
                .launch(kernel, from.elementCount(), cuda.stream());
        cuda.afterOperation(kernel);
    }

    /** Row-major only (the CUDA device keeps no other layout): one thread per copied element. */
    @Override
    public void copyChannels(Tensor from, int fromStart, Tensor to, int toStart, int channels) {
        cuda.enterContext();
        long inner = from.elementCount() / Math.max(1, (long) from.shape().dim(0) * from.shape().dim(1));
        long count = (long) from.shape().dim(0) * channels * inner;
        kernels.pointer(0, from.memory()).pointer(1, to.memory()).int64(2, from.shape().dim(1)).int64(3, fromStart)
                .int64(4, to.shape().dim(1)).int64(5, toStart).int64(6, channels).int64(7, inner).int64(8, count)
                .launch("copy_channels", count, cuda.stream());
        cuda.afterOperation("copy channels");
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        cuda.enterContext();
        long channels = y.shape().dim(1);
        kernels.pointer(0, y.memory()).pointer(1, bias.memory()).int64(2, channels)
                .int64(3, y.elementCount() / Math.max(1, (long) y.shape().dim(0) * channels)).int64(4, y.elementCount())
                .launch("bias_add", y.elementCount(), cuda.stream());
        cuda.afterOperation("add bias");
    }

    @Override
    public void biasGradient(Tensor gradOutput, Tensor biasGrad) {
        cuda.enterContext();
        int outer = gradOutput.shape().dim(0);
        int channels = gradOutput.shape().dim(1);
        long inner = gradOutput.elementCount() / Math.max(1, (long) outer * channels);
        kernels.pointer(0, gradOutput.memory()).pointer(1, biasGrad.memory()).int64(2, outer).int64(3, channels).int64(4, inner)
                .launch("bias_grad", channels, 256, cuda.stream());
        cuda.afterOperation("bias gradient");
    }

    @Override
    public void forward(Activation function, float alpha, Tensor x, Tensor y) {
        if (function == Activation.BINARY_STEP) {
            throw notOnCuda("binary step forward");
        }
        cuda.enterContext();
        int mode = cudnnMode(function);
        if (mode >= 0) {
            MemorySegment tensor = descriptor(TENSOR, x.shape());
            MemorySegment activation = activationDescriptor(mode, function == Activation.ELU ? alpha : 0);
            Cudnn.check(cudnn_h.cudnnActivationForward(cuda.cudnn(), activation, cuda.one(), tensor, x.memory(), cuda.zero(), tensor,
                    y.memory()), "cudnnActivationForward");
        } else if (function == Activation.LEAKY_RELU) {
            kernels.pointer(0, x.memory()).pointer(1, y.memory()).float32(2, alpha).int64(3, x.elementCount())
                    .launch("leaky_relu_forward", x.elementCount(), cuda.stream());
        } else if (function == Activation.GELU) {
            kernels.pointer(0, x.memory()).pointer(1, y.memory()).int64(2, x.elementCount())
                    .launch("gelu_forward", x.elementCount(), cuda.stream());
        } else {
            throw notOnCuda(function + " forward");
        }
        cuda.afterOperation("activation forward");
    }

    @Override
    public void backward(Activation function, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        cuda.enterContext();
        int mode = cudnnMode(function);
        if (mode >= 0) {
            MemorySegment tensor = descriptor(TENSOR, x.shape());
            MemorySegment activation = activationDescriptor(mode, function == Activation.ELU ? alpha : 0);
            Cudnn.check(cudnn_h.cudnnActivationBackward(cuda.cudnn(), activation, cuda.one(), tensor, y.memory(), tensor,
                    dy.memory(), tensor, x.memory(), cuda.zero(), tensor, dx.memory()), "cudnnActivationBackward");
        } else if (function == Activation.LEAKY_RELU) {
            kernels.pointer(0, x.memory()).pointer(1, dy.memory()).pointer(2, dx.memory()).float32(3, alpha).int64(4, x.elementCount())
                    .launch("leaky_relu_backward", x.elementCount(), cuda.stream());
        } else if (function == Activation.GELU) {
            kernels.pointer(0, x.memory()).pointer(1, dy.memory()).pointer(2, dx.memory()).int64(3, x.elementCount())
                    .launch("gelu_backward", x.elementCount(), cuda.stream());
        } else {
            // Named, not a GELU fall-through: a new activation must not compute another function on GPUs.
            throw notOnCuda(function + " backward");
        }
        cuda.afterOperation("activation backward");
    }

    @Override
    public void softmaxForward(boolean log, Tensor x, Tensor y) {
        cuda.enterContext();
        MemorySegment view = descriptor(CHANNELS, x.shape());
        Cudnn.check(cudnn_h.cudnnSoftmaxForward(cuda.cudnn(), log ? cudnn_h.CUDNN_SOFTMAX_LOG() : cudnn_h.CUDNN_SOFTMAX_ACCURATE(),
                cudnn_h.CUDNN_SOFTMAX_MODE_CHANNEL(), cuda.one(), view, x.memory(), cuda.zero(), view, y.memory()),
                "cudnnSoftmaxForward");
        cuda.afterOperation("softmax forward");
    }

    @Override
    public void softmaxBackward(boolean log, Tensor y, Tensor dy, Tensor dx) {
        cuda.enterContext();
        MemorySegment view = descriptor(CHANNELS, y.shape());
        Cudnn.check(cudnn_h.cudnnSoftmaxBackward(cuda.cudnn(), log ? cudnn_h.CUDNN_SOFTMAX_LOG() : cudnn_h.CUDNN_SOFTMAX_ACCURATE(),
                cudnn_h.CUDNN_SOFTMAX_MODE_CHANNEL(), cuda.one(), view, y.memory(), view, dy.memory(), cuda.zero(), view,
                dx.memory()), "cudnnSoftmaxBackward");
        cuda.afterOperation("softmax backward");
    }

    @Override
    public void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        cuda.enterContext();
        kernels.pointer(0, x.memory()).pointer(1, y.memory()).pointer(2, mask.memory()).float32(3, p).float32(4, 1f / (1f - p))
                .int64(5, seed).int64(6, counter).int64(7, x.elementCount())
                .launch("dropout_forward", x.elementCount(), cuda.stream());
        cuda.afterOperation("dropout");
    }

    /**
     * The AlexNet-era window functions have no PTX kernel yet: refused before anything reaches the
     * GPU, so a model that holds them fails at its first forward with the reason.
     */
    private static UnsupportedOperationException notOnCuda(String op) {
        return new UnsupportedOperationException(op + " is not implemented on CUDA yet (CPU only); "
                + "run the model with --device cpu");
    }

    /** cuDNN's cross-channel LRN for the odd sizes and settings where it equals PyTorch's (see {@link CudaLocalResponseNorm}). */
    @Override
    public void localResponseNormForward(int size, float alpha, float beta, float k, Tensor x, Tensor y) {
        lrn.forward(size, alpha, beta, k, x, y);
    }

    @Override
    public void localResponseNormBackward(int size, float alpha, float beta, float k, Tensor x, Tensor gradOutput,
                                          Tensor gradInput) {
        lrn.backward(size, alpha, beta, k, x, gradOutput, gradInput);
    }

    @Override
    public void maxoutForward(int pieces, Tensor x, Tensor y) {
        throw notOnCuda("maxout forward");
    }

    @Override
    public void maxoutBackward(int pieces, Tensor x, Tensor gradOutput, Tensor gradInput) {
        throw notOnCuda("maxout backward");
    }

    @Override
    public void adaptiveAvgPoolForward(Tensor x, Tensor y) {
        throw notOnCuda("adaptive average pool with windows of varying size, forward");
    }

    @Override
    public void adaptiveAvgPoolBackward(Tensor gradOutput, Tensor gradInput) {
        throw notOnCuda("adaptive average pool with windows of varying size, backward");
    }

    /** A device buffer of at least {@code count} floats for per-element loss values. */
    @Override
    public void close() {
        for (Descriptor d : descriptors) {
            if (d.kind == ACTIVATION) {
                cudnn_h.cudnnDestroyActivationDescriptor(d.handle);
            } else {
                Cudnn.destroyTensor(d.handle);
            }
        }
        descriptors.clear();
        lrn.close();
        arena.close();
    }
}
