package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.device.ReductionKernels;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * The CUDA device's reduction family: PTX kernels accumulate into a device cell (atomics), read
 * through the device's one preallocated host cell; the top-k hit count stays on the device.
 */
final class CudaReductions implements ReductionKernels.Backend, AutoCloseable {
    private final CudaDevice cuda;
    private final CudaKernels kernels;
    private final ScalarReadback readback;
    private final Tensor doubleScratch;

    CudaReductions(CudaDevice cuda, CudaKernels kernels, ScalarReadback readback) {
        this.cuda = cuda;
        this.kernels = kernels;
        this.readback = readback;
        this.doubleScratch = cuda.allocate(Shape.of(2));
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
    public void countSegmentation(Tensor logits, Tensor labels, int ignoreIndex, Tensor counts) {
        cuda.enterContext();
        long pixels = (long) logits.shape().dim(2) * logits.shape().dim(3);
        long positions = labels.elementCount();
        kernels.pointer(0, logits.memory()).pointer(1, labels.memory()).pointer(2, counts.memory()).int64(3, positions)
                .int64(4, pixels).int64(5, logits.shape().dim(1)).int32(6, ignoreIndex)
                .int32(7, logits.layout() == Layout.CHANNELS_LAST ? 1 : 0)
                .launch("count_segmentation", positions, cuda.stream());
        cuda.afterOperation("count segmentation");
    }

    @Override
    public void close() {
        doubleScratch.close();
    }
}
