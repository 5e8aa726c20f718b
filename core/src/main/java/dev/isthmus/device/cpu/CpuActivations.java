package dev.isthmus.device.cpu;

import dev.isthmus.device.Activation;
import dev.isthmus.device.ActivationKernels;
import dev.isthmus.random.CounterRng;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The CPU's activation family in Java loops split over the cores: activation functions, softmax
 * and dropout. Operands in another layout than the result's are converted through scratch.
 */
class CpuActivations implements ActivationKernels.Backend {
    private static final double INV_SQRT_2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

    final CpuParallel parallel;
    final CpuScratch scratch;
    private final CpuSoftmax softmax;
    private final CpuWindowKernels windows;

    CpuActivations(CpuParallel parallel, CpuScratch scratch, CpuSoftmax softmax) {
        this.parallel = parallel;
        this.scratch = scratch;
        this.softmax = softmax;
        this.windows = new CpuWindowKernels(parallel);
    }

    @Override
    public void localResponseNormForward(int size, float alpha, float beta, float k, Tensor x, Tensor y) {
        windows.lrnForward(size, alpha, beta, k, scratch.inLayout(x, y.layout(), CpuScratch.Slot.FIRST_INPUT), y);
    }

    @Override
    public void localResponseNormBackward(int size, float alpha, float beta, float k, Tensor x, Tensor gradOutput,
                                          Tensor gradInput) {
        Layout layout = gradInput.layout();
        windows.lrnBackward(size, alpha, beta, k, scratch.inLayout(x, layout, CpuScratch.Slot.FIRST_INPUT),
                scratch.inLayout(gradOutput, layout, CpuScratch.Slot.THIRD_INPUT), gradInput);
    }

    @Override
    public void maxoutForward(int pieces, Tensor x, Tensor y) {
        // The group's channels are read along the channel stride, so x and y need only share a layout.
        windows.maxoutForward(pieces, scratch.inLayout(x, y.layout(), CpuScratch.Slot.FIRST_INPUT), y);
    }

    @Override
    public void maxoutBackward(int pieces, Tensor x, Tensor gradOutput, Tensor gradInput) {
        Layout layout = gradInput.layout();
        windows.maxoutBackward(pieces, scratch.inLayout(x, layout, CpuScratch.Slot.FIRST_INPUT),
                scratch.inLayout(gradOutput, layout, CpuScratch.Slot.THIRD_INPUT), gradInput);
    }

    @Override
    public void adaptiveAvgPoolForward(Tensor x, Tensor y) {
        windows.adaptiveAvgPoolForward(scratch.inLayout(x, y.layout(), CpuScratch.Slot.FIRST_INPUT), y);
    }

    @Override
    public void adaptiveAvgPoolBackward(Tensor gradOutput, Tensor gradInput) {
        windows.adaptiveAvgPoolBackward(scratch.inLayout(gradOutput, gradInput.layout(), CpuScratch.Slot.THIRD_INPUT),
                gradInput);
    }

    @Override
    public void forward(Activation function, float alpha, Tensor x, Tensor y) {
        activationLoop(function, alpha, scratch.inLayout(x, y.layout(), CpuScratch.Slot.FIRST_INPUT), y);
    }

    @Override
    public void backward(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput, Tensor gradInput) {
        Layout layout = gradInput.layout();
        activationBackwardLoop(function, alpha, scratch.inLayout(x, layout, CpuScratch.Slot.FIRST_INPUT),
                scratch.inLayout(y, layout, CpuScratch.Slot.SECOND_INPUT),
                scratch.inLayout(gradOutput, layout, CpuScratch.Slot.THIRD_INPUT), gradInput);
    }

    @Override
    public void softmaxForward(boolean log, Tensor x, Tensor y) {
        Tensor result = scratch.rowMajorResult(y);
        softmax.forward(log, scratch.inLayout(x, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT), result);
        scratch.store(result, y);
    }

    @Override
    public void softmaxBackward(boolean log, Tensor y, Tensor gradOutput, Tensor gradInput) {
        Tensor result = scratch.rowMajorResult(gradInput);
        softmax.backward(log, scratch.inLayout(y, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT),
                scratch.inLayout(gradOutput, Layout.ROW_MAJOR, CpuScratch.Slot.SECOND_INPUT), result);
        scratch.store(result, gradInput);
    }

    @Override
    public void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        // The mask is drawn by logical index, so every layout and device draws the same one.
        Tensor output = y.layout() == Layout.ROW_MAJOR && mask.layout() == Layout.ROW_MAJOR ? y
                : scratch.get(CpuScratch.Slot.OUTPUT, y.shape(), DType.F32, Layout.ROW_MAJOR);
        Tensor keep = scratch.rowMajorResult(mask);
        dropoutLoop(scratch.inLayout(x, Layout.ROW_MAJOR, CpuScratch.Slot.FIRST_INPUT), output, keep, p, seed, counter);
        scratch.store(output, y);
        scratch.store(keep, mask);
    }

    /** y = f(x) for x and y in one layout. */
    private void activationLoop(Activation function, float alpha, Tensor x, Tensor y) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        parallel.forRange((int) x.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            switch (function) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        float v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : 0f);
                    }
                }
                case LEAKY_RELU -> {
                    for (int i = from; i < to; i++) {
                        float v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : alpha * v);
                    }
                }
                case ELU -> {
                    for (int i = from; i < to; i++) {
                        float v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, v > 0 ? v : (float) (alpha * Math.expm1(v)));
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        out.setAtIndex(JAVA_FLOAT, i, sigmoid(in.getAtIndex(JAVA_FLOAT, i)));
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        out.setAtIndex(JAVA_FLOAT, i, (float) Math.tanh(in.getAtIndex(JAVA_FLOAT, i)));
                    }
                }
                case GELU -> {
                    for (int i = from; i < to; i++) {
                        double v = in.getAtIndex(JAVA_FLOAT, i);
                        out.setAtIndex(JAVA_FLOAT, i, (float) (0.5 * v * (1 + Erf.erf(v * INV_SQRT_2))));
                    }
                }
                case BINARY_STEP -> {
                    for (int i = from; i < to; i++) {
                        out.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? 1f : 0f);
                    }
                }
            }
        });
    }

    /** dx = f'(x) · dy for operands in one layout. */
    private void activationBackwardLoop(Activation function, float alpha, Tensor x, Tensor y, Tensor gradOutput,
                                        Tensor gradInput) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment dy = gradOutput.memory();
        MemorySegment dx = gradInput.memory();
        parallel.forRange((int) x.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            switch (function) {
                case RELU -> {
                    for (int i = from; i < to; i++) {
                        float g = dy.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? g : 0f);
                    }
                }
                case LEAKY_RELU -> {
                    for (int i = from; i < to; i++) {
                        float g = dy.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? g : alpha * g);
                    }
                }
                case ELU -> {
                    // For x <= 0, d/dx alpha(e^x - 1) = alpha e^x = y + alpha.
                    for (int i = from; i < to; i++) {
                        float g = dy.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) > 0 ? g
                                : g * (out.getAtIndex(JAVA_FLOAT, i) + alpha));
                    }
                }
                case SIGMOID -> {
                    for (int i = from; i < to; i++) {
                        float s = out.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, dy.getAtIndex(JAVA_FLOAT, i) * s * (1 - s));
                    }
                }
                case TANH -> {
                    for (int i = from; i < to; i++) {
                        float t = out.getAtIndex(JAVA_FLOAT, i);
                        dx.setAtIndex(JAVA_FLOAT, i, dy.getAtIndex(JAVA_FLOAT, i) * (1 - t * t));
                    }
                }
                case GELU -> {
                    for (int i = from; i < to; i++) {
                        double v = in.getAtIndex(JAVA_FLOAT, i);
                        double cdf = 0.5 * (1 + Erf.erf(v * INV_SQRT_2));
                        double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
                        dx.setAtIndex(JAVA_FLOAT, i, (float) (dy.getAtIndex(JAVA_FLOAT, i) * (cdf + v * pdf)));
                    }
                }
                // The family refuses it before any backend is called.
                case BINARY_STEP -> throw new IllegalStateException("binary step has no gradient");
            }
        });
    }

    static float sigmoid(float v) {
        // Written so that neither branch overflows: exp of a non-positive number only.
        if (v >= 0) {
            return (float) (1 / (1 + Math.exp(-v)));
        }
        double e = Math.exp(v);
        return (float) (e / (1 + e));
    }

    private void dropoutLoop(Tensor x, Tensor y, Tensor mask, float p, long seed, long counter) {
        MemorySegment in = x.memory();
        MemorySegment out = y.memory();
        MemorySegment keep = mask.memory();
        float scale = 1f / (1f - p);
        parallel.forRange((int) x.elementCount(), CpuDevice.MIN_PARALLEL_ELEMENTS, (from, to) -> {
            for (int i = from; i < to; i++) {
                float m = CounterRng.uniform(seed, counter, i) >= p ? scale : 0f;
                keep.setAtIndex(JAVA_FLOAT, i, m);
                out.setAtIndex(JAVA_FLOAT, i, in.getAtIndex(JAVA_FLOAT, i) * m);
            }
        });
    }

}
