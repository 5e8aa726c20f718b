package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.Activation;
import dev.isthmus.device.ActivationKernels;
import dev.isthmus.device.ElementwiseKernels;
import dev.isthmus.device.LossKernels;
import dev.isthmus.device.OptimizerKernels;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.device.ReductionKernels;
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
 * The CUDA device's backend for every kernel family but BLAS (element-wise, activations, losses,
 * optimizer updates, reductions): cuDNN for the activations and softmax it has (ReLU, sigmoid,
 * tanh, ELU), the PTX kernels for the rest, the losses, the optimizer updates and the reductions
 * read on the host. cuDNN descriptors are made once per shape and found again by a scan
 * of a short list. A cross-entropy label outside [0, C) cannot be checked on the host without a
 * wait, so the kernel raises a flag on the GPU that the next host read checks.
 */
final class CudaElementwise implements ElementwiseKernels.Backend, ActivationKernels.Backend, LossKernels.Backend,
        OptimizerKernels.Backend, ReductionKernels.Backend, AutoCloseable {
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
    private final Tensor labelError;
    private final Tensor doubleScratch;
    private final ScalarReadback readback;
    private Tensor lossScratch;
    private boolean errorPending;

    CudaElementwise(CudaDevice cuda, CudaKernels kernels) {
        this.cuda = cuda;
        this.kernels = kernels;
        this.labelError = cuda.allocate(Shape.of(1), DType.I32);
        this.doubleScratch = cuda.allocate(Shape.of(2));
        // Copied on the work stream, so after the kernel that wrote the value, then one wait.
        this.readback = new ScalarReadback(arena, (host, address, bytes) -> {
            CudaDriver.check(cuda_h.cuMemcpyDtoHAsync_v2(host, address, bytes, cuda.stream()), "cuMemcpyDtoHAsync (scalar read)");
            CudaDriver.check(cuda_h.cuStreamSynchronize(cuda.stream()), "cuStreamSynchronize (scalar read)");
        });
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
        } else {
            kernels.pointer(0, x.memory()).pointer(1, y.memory()).int64(2, x.elementCount())
                    .launch("gelu_forward", x.elementCount(), cuda.stream());
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
        } else {
            kernels.pointer(0, x.memory()).pointer(1, dy.memory()).pointer(2, dx.memory()).int64(3, x.elementCount())
                    .launch("gelu_backward", x.elementCount(), cuda.stream());
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

    /** A device buffer of at least {@code count} floats for per-element loss values. */
    private Tensor lossValues(long count) {
        if (lossScratch == null || lossScratch.elementCount() < count) {
            if (lossScratch != null) {
                lossScratch.close();
            }
            lossScratch = cuda.allocate(Shape.of(Math.toIntExact(count)));
        }
        return lossScratch;
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float smoothing, Tensor loss, Tensor grad) {
        cuda.enterContext();
        long batch = logits.shape().dim(0);
        Tensor values = lossValues(batch);
        kernels.pointer(0, logits.memory()).pointer(1, labels.memory()).pointer(2, values.memory())
                .pointer(3, grad == null ? null : grad.memory()).pointer(4, labelError.memory()).int64(5, batch)
                .int64(6, logits.shape().dim(1)).float32(7, smoothing)
                .launch("softmax_cross_entropy", batch, cuda.stream());
        errorPending = true;
        sum(values, batch, loss, 1.0 / batch);
        cuda.afterOperation("softmax cross-entropy");
    }

    @Override
    public void pointwise(PointwiseLoss kind, float beta, Tensor input, Tensor target, Tensor loss, Tensor grad) {
        cuda.enterContext();
        long n = input.elementCount();
        Tensor values = lossValues(n);
        kernels.int32(0, kind.ordinal()).float32(1, beta).pointer(2, input.memory()).pointer(3, target.memory())
                .pointer(4, values.memory()).pointer(5, grad == null ? null : grad.memory()).int64(6, n)
                .launch("pointwise_loss", n, cuda.stream());
        sum(values, n, loss, 1.0 / n);
        cuda.afterOperation("pointwise loss");
    }

    private void sum(Tensor values, long n, Tensor out, double scale) {
        kernels.pointer(0, values.memory()).pointer(1, out.memory()).int64(2, n).float64(3, scale)
                .launch("sum_scaled", 1, 256, cuda.stream());
    }

    /** Throws if a cross-entropy kernel since the last check met a label outside [0, C). The stream must be idle. */
    void throwPendingErrors() {
        if (!errorPending) {
            return;
        }
        errorPending = false;
        if (readback.readInt(labelError.memory().address()) != 0) {
            // On the work stream: a reset on the legacy stream would be unordered with the kernels that set the flag.
            CudaDriver.check(cuda_h.cuMemsetD32Async(labelError.memory().address(), 0, 1, cuda.stream()),
                    "cuMemsetD32Async (label check)");
            throw new IllegalArgumentException("softmax cross-entropy: a label is outside [0, classes); the loss of the "
                    + "batch that held it is wrong");
        }
    }

    @Override
    public void sgd(Tensor p, Tensor g, Tensor buf, float lr, float momentum, float dampening, float weightDecay, boolean nesterov,
             boolean firstStep) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, buf == null ? null : buf.memory()).float32(3, lr)
                .float32(4, momentum).float32(5, dampening).float32(6, weightDecay).int32(7, nesterov ? 1 : 0)
                .int32(8, firstStep ? 1 : 0).int64(9, p.elementCount()).launch("sgd_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("sgd step");
    }

    @Override
    public void adam(Tensor p, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps, float weightDecay,
              boolean decoupled, int step) {
        cuda.enterContext();
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, m.memory()).pointer(3, v.memory()).float32(4, beta1)
                .float32(5, beta2).float32(6, eps).float32(7, biasCorrection2Sqrt).float32(8, (float) (lr / biasCorrection1))
                .float32(9, decoupled ? 1 - lr * weightDecay : 1).float32(10, decoupled ? 0 : weightDecay)
                .int64(11, p.elementCount()).launch("adam_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("adam step");
    }

    @Override
    public void rmsprop(Tensor p, Tensor g, Tensor sq, Tensor ga, Tensor buf, float lr, float alpha, float eps, float weightDecay,
                 float momentum) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, sq.memory()).pointer(3, ga == null ? null : ga.memory())
                .pointer(4, buf == null ? null : buf.memory()).float32(5, lr).float32(6, alpha).float32(7, eps)
                .float32(8, weightDecay).float32(9, momentum).int64(10, p.elementCount())
                .launch("rmsprop_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("rmsprop step");
    }

    @Override
    public void adagrad(Tensor p, Tensor g, Tensor sum, float clr, float eps, float weightDecay) {
        cuda.enterContext();
        kernels.pointer(0, p.memory()).pointer(1, g.memory()).pointer(2, sum.memory()).float32(3, clr).float32(4, eps)
                .float32(5, weightDecay).int64(6, p.elementCount()).launch("adagrad_step", p.elementCount(), cuda.stream());
        cuda.afterOperation("adagrad step");
    }

    @Override
    public double sumOfSquares(Tensor x) {
        cuda.enterContext();
        CudaDriver.check(cuda_h.cuMemsetD8Async(doubleScratch.memory().address(), (byte) 0, 8, cuda.stream()), "cuMemsetD8Async");
        kernels.pointer(0, x.memory()).pointer(1, doubleScratch.memory()).int64(2, x.elementCount())
                .launch("sum_of_squares", x.elementCount(), cuda.stream());
        return readback.readDouble(doubleScratch.memory().address());
    }

    @Override
    public long countNonFinite(Tensor x) {
        cuda.enterContext();
        CudaDriver.check(cuda_h.cuMemsetD8Async(doubleScratch.memory().address(), (byte) 0, 8, cuda.stream()), "cuMemsetD8Async");
        kernels.pointer(0, x.memory()).pointer(1, doubleScratch.memory()).int64(2, x.elementCount())
                .launch("count_non_finite", x.elementCount(), cuda.stream());
        return readback.readLong(doubleScratch.memory().address());
    }

    @Override
    public void countCorrect(Tensor logits, Tensor labels, int k, Tensor counter) {
        cuda.enterContext();
        long batch = logits.shape().dim(0);
        kernels.pointer(0, logits.memory()).pointer(1, labels.memory()).pointer(2, counter.memory()).int64(3, batch)
                .int64(4, logits.shape().dim(1)).int64(5, k).launch("count_correct", batch, cuda.stream());
        cuda.afterOperation("count correct");
    }

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
        labelError.close();
        doubleScratch.close();
        if (lossScratch != null) {
            lossScratch.close();
        }
        arena.close();
    }
}
