package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.device.LossKernels;
import dev.isthmus.device.PointwiseLoss;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * The CUDA device's loss family: the PTX cross-entropy and element-wise loss kernels write one
 * value per sample, and a one-block kernel sums them into the loss. A cross-entropy label outside
 * [0, C) cannot be checked on the host without a wait, so the kernel raises a flag on the GPU that
 * the next host read checks.
 */
final class CudaLosses implements LossKernels.Backend, AutoCloseable {
    private final CudaDevice cuda;
    private final CudaKernels kernels;
    private final ScalarReadback readback;
    private final Tensor labelError;
    private Tensor lossScratch;
    private boolean errorPending;

    CudaLosses(CudaDevice cuda, CudaKernels kernels, ScalarReadback readback) {
        this.cuda = cuda;
        this.kernels = kernels;
        this.readback = readback;
        this.labelError = cuda.allocate(Shape.of(1), DType.I32);
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

    @Override
    public void spatialCrossEntropy(Tensor logits, Tensor labels, int ignoreIndex, Tensor loss, Tensor grad) {
        cuda.enterContext();
        long positions = labels.elementCount();
        long classes = logits.shape().dim(1);
        long inner = logits.elementCount() / (logits.shape().dim(0) * classes);
        // Per-position losses, then whether each counts, then one cell for 1 / count (a device address: int64).
        Tensor values = lossValues(2 * positions + 1);
        long scaleCell = values.memory().address() + 2 * positions * Float.BYTES;
        kernels.pointer(0, logits.memory()).pointer(1, labels.memory()).pointer(2, values.memory())
                .pointer(3, grad == null ? null : grad.memory()).pointer(4, labelError.memory()).int64(5, positions)
                .int64(6, classes).int64(7, inner).int32(8, ignoreIndex)
                .launch("spatial_cross_entropy", positions, cuda.stream());
        errorPending = true;
        kernels.pointer(0, values.memory()).pointer(1, loss.memory()).int64(2, scaleCell).int64(3, positions)
                .launch("mean_over_counted", 1, 256, cuda.stream());
        if (grad != null) {
            kernels.pointer(0, grad.memory()).int64(1, scaleCell).int64(2, grad.elementCount())
                    .launch("scale_by_cell", grad.elementCount(), cuda.stream());
        }
        cuda.afterOperation("spatial cross-entropy");
    }

    @Override
    public void softTargetKl(Tensor student, Tensor teacher, float temperature, Tensor loss, Tensor grad) {
        cuda.enterContext();
        long batch = student.shape().dim(0);
        Tensor values = lossValues(batch);
        kernels.pointer(0, student.memory()).pointer(1, teacher.memory()).pointer(2, values.memory())
                .pointer(3, grad == null ? null : grad.memory()).int64(4, batch).int64(5, student.shape().dim(1))
                .float32(6, temperature).launch("soft_target_kl", batch, cuda.stream());
        sum(values, batch, loss, 1.0 / batch);
        cuda.afterOperation("soft-target KL divergence");
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
    public void close() {
        labelError.close();
        if (lossScratch != null) {
            lossScratch.close();
        }
    }
}
