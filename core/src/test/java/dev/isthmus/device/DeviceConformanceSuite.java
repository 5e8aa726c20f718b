package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.NamedTensor;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.LayerCases;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DESIGN.md §6's device conformance: every op and every layer's forward and backward on a device
 * under test against the reference, the CPU device's OpenBLAS + Java backend (which the PyTorch
 * fixtures pin down). Subclasses name the device; a device this machine lacks is skipped with the
 * reason (see the subclasses), never passed vacuously.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DeviceConformanceSuite {
    private Device reference;
    private Device device;

    private String unavailable;

    /** The device under test; called once, and only when {@link #unavailableReason()} is null. */
    protected abstract Device createDevice();

    /** Why this machine cannot run the device under test, or null when it can. */
    protected String unavailableReason() {
        return null;
    }

    /** Relative and absolute tolerance of a comparison (summation orders differ between kernels). */
    protected double tolerance() {
        return 2e-4;
    }

    @BeforeAll
    void open() {
        unavailable = unavailableReason();
        if (unavailable == null) {
            reference = new CpuDevice(2, CpuBackend.OPENBLAS);
            device = createDevice();
        }
    }

    /** Each case, not the class, is skipped, so that every case is reported skipped with the reason. */
    @BeforeEach
    void requireDevice() {
        Assumptions.assumeTrue(unavailable == null, () -> unavailable);
    }

    @AfterAll
    void close() {
        if (device != null) {
            device.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    protected Device device() {
        return device;
    }

    private void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double tol = tolerance();
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol * (1 + Math.abs(expected[i])))) {
                throw new AssertionError(what + "[" + i + "] on " + device.name() + ": expected " + expected[i] + ", got "
                        + actual[i]);
            }
        }
    }

    // ---------------------------------------------------------------- ops

    @Test
    void gemmInEveryTransposition() {
        SplittableRandom random = new SplittableRandom(3);
        for (Transpose ta : Transpose.values()) {
            for (Transpose tb : Transpose.values()) {
                int m = 1 + random.nextInt(40);
                int n = 1 + random.nextInt(40);
                int k = 1 + random.nextInt(60);
                float[] a = TestData.uniform(m * k, 1, random.nextLong());
                float[] b = TestData.uniform(k * n, 1, random.nextLong());
                float[] c = TestData.uniform(m * n, 1, random.nextLong());
                float[][] results = new float[2][];
                int index = 0;
                for (Device d : List.of(reference, device)) {
                    try (Tensor ta_ = d.fromArray(Shape.of(a.length), a); Tensor tb_ = d.fromArray(Shape.of(b.length), b);
                         Tensor tc = d.fromArray(Shape.of(c.length), c)) {
                        d.blas().gemm(ta, tb, m, n, k, 0.7f, ta_, 0, ta == Transpose.YES ? m : k, tb_, 0, tb == Transpose.YES ? k : n,
                                0.3f, tc, 0, n);
                        results[index++] = tc.toFloatArray();
                    }
                }
                assertClose("gemm " + ta + tb, results[0], results[1]);
            }
        }
    }

    @Test
    void elementwiseOpsAndReductions() {
        float[] a = TestData.uniform(1000, 2, 1);
        float[] b = TestData.uniform(1000, 2, 2);
        float[][] reference = run(this.reference, a, b);
        float[][] actual = run(device, a, b);
        for (int i = 0; i < reference.length; i++) {
            assertClose("elementwise result " + i, reference[i], actual[i]);
        }
    }

    @Test
    void addReluIsTheSumThroughAReluInOnePassAndMayOverwriteAnOperand() {
        float[] a = TestData.uniform(1000, 2, 3);
        float[] b = TestData.uniform(1000, 2, 4);
        Shape shape = Shape.of(10, 100);
        try (Tensor x = device.fromArray(shape, a); Tensor y = device.fromArray(shape, b)) {
            device.elementwise().addRelu(x, y, x);
            float[] actual = x.toFloatArray();
            int zeros = 0;
            for (int i = 0; i < a.length; i++) {
                float expected = Math.max(a[i] + b[i], 0f);
                assertEquals(expected, actual[i], 1e-6f, "addRelu at " + i);
                zeros += expected == 0f ? 1 : 0;
            }
            assertTrue(zeros > 100 && zeros < 900, "the data crosses zero: " + zeros + " zeros");
        }
    }

    private static float[][] run(Device d, float[] a, float[] b) {
        Shape shape = Shape.of(10, 100);
        try (Tensor x = d.fromArray(shape, a); Tensor y = d.fromArray(shape, b); Tensor out = d.allocate(shape)) {
            float[][] results = new float[8][];
            d.elementwise().add(x, y, out);
            results[0] = out.toFloatArray();
            d.elementwise().addRelu(x, y, out);
            results[7] = out.toFloatArray();
            d.elementwise().mul(x, y, out);
            results[1] = out.toFloatArray();
            d.blas().axpy(-0.5f, x, y);
            results[2] = y.toFloatArray();
            d.blas().scale(y, 3f);
            results[3] = y.toFloatArray();
            d.elementwise().fill(out, 2.5f);
            results[4] = out.toFloatArray();
            results[5] = new float[] {(float) d.reductions().sumOfSquares(x)};
            x.copyFrom(withNonFinite(a));
            results[6] = new float[] {d.reductions().countNonFinite(x)};
            return results;
        }
    }

    private static float[] withNonFinite(float[] values) {
        float[] copy = values.clone();
        copy[3] = Float.NaN;
        copy[10] = Float.POSITIVE_INFINITY;
        return copy;
    }

    @Test
    void biasOfEmptyBatchesAndOfZeroChannelsChangesNothing() {
        // A kernel sized by the channel count would be an empty grid, which the CUDA driver refuses.
        try (Tensor y = device.allocate(Shape.of(4, 0, 3)); Tensor bias = device.allocate(Shape.of(0));
             Tensor biasGrad = device.allocate(Shape.of(0))) {
            device.elementwise().addBias(y, bias);
            device.elementwise().biasGradient(y, biasGrad);
            device.synchronize();
        }
        try (Tensor empty = device.allocate(Shape.of(0, 3, 2)); Tensor bias = device.fromArray(Shape.of(3), 1f, 2f, 3f);
             Tensor biasGrad = device.fromArray(Shape.of(3), 0.5f, -1f, 2f)) {
            device.elementwise().addBias(empty, bias);
            device.elementwise().biasGradient(empty, biasGrad);
            assertArrayEquals(new float[] {0.5f, -1f, 2f}, biasGrad.toFloatArray(), "an empty batch adds nothing");
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void hostCopiesSeeTheLogicalOrderInEveryLayout(Layout layout) {
        Shape shape = Shape.of(2, 3, 4, 5);
        float[] values = TestData.uniform(120, 1, 9);
        if (!device.supports(layout)) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> device.allocate(shape, DType.F32, layout));
            assertTrue(refused.getMessage().contains(layout.toString()), refused.getMessage());
            return;
        }
        try (Tensor tensor = device.allocate(shape, DType.F32, layout); Tensor rowMajor = device.allocate(shape)) {
            tensor.copyFrom(values);
            assertArrayEquals(values, tensor.toFloatArray());
            device.copy(tensor, rowMajor);
            assertArrayEquals(values, rowMajor.toFloatArray());
            device.elementwise().fill(tensor, 0f);
            device.copy(rowMajor, tensor);
            assertArrayEquals(values, tensor.toFloatArray());
        }
    }

    @Test
    void dropoutMasksAreIdenticalOnEveryDevice() {
        Shape shape = Shape.of(4, 3, 5, 5);
        float[] values = TestData.uniform(300, 1, 4);
        float[][] masks = new float[2][];
        int index = 0;
        for (Device d : List.of(reference, device)) {
            try (Tensor x = d.allocateActivation(shape).copyFrom(values); Tensor y = d.allocateActivation(shape);
                 Tensor mask = d.allocateActivation(shape)) {
                d.activations().dropoutForward(x, y, mask, 0.4f, 1234L, 7L);
                masks[index++] = mask.toFloatArray();
            }
        }
        assertArrayEquals(masks[0], masks[1]);
    }

    /**
     * Top-1 and top-k hits counted on the device: the hand-computed rows of {@link CountCorrectTest}
     * (ties, NaN, a label out of range) exactly, and logits drawn from five values (so ties are
     * common) against the reference, counted twice into one counter.
     */
    @Test
    void countCorrectRanksAsTorchDoes() {
        try (Tensor logits = device.fromArray(Shape.of(8, 4), CountCorrectTest.LOGITS);
             Tensor labels = device.fromInts(Shape.of(8), CountCorrectTest.LABELS);
             Tensor top1 = device.allocate(Shape.of(1), DType.I32); Tensor top2 = device.allocate(Shape.of(1), DType.I32)) {
            device.reductions().countCorrect(logits, labels, 1, top1);
            device.reductions().countCorrect(logits, labels, 2, top2);
            assertEquals(CountCorrectTest.TOP1, top1.toIntArray()[0], "top-1 hits on " + device.name());
            assertEquals(CountCorrectTest.TOP2, top2.toIntArray()[0], "top-2 hits on " + device.name());
        }
        SplittableRandom random = new SplittableRandom(12);
        int rows = 777;
        int classes = 10;
        float[] values = new float[rows * classes];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(5) - 2f;
        }
        int[] classOf = TestData.labels(rows, classes, 13);
        for (int k : new int[] {1, 3}) {
            int[] counts = new int[2];
            int index = 0;
            for (Device d : List.of(reference, device)) {
                try (Tensor logits = d.fromArray(Shape.of(rows, classes), values);
                     Tensor labels = d.fromInts(Shape.of(rows), classOf); Tensor counter = d.allocate(Shape.of(1), DType.I32)) {
                    d.reductions().countCorrect(logits, labels, k, counter);
                    d.reductions().countCorrect(logits, labels, k, counter);
                    counts[index++] = counter.toIntArray()[0];
                }
            }
            assertTrue(counts[0] > 0 && counts[0] < 2 * rows, "a case that tells hits from misses: " + counts[0]);
            assertEquals(counts[0], counts[1], "top-" + k + " hits on " + device.name() + " against the reference");
        }
    }

    @Test
    void lossesAndOptimizerSteps() {
        float[][] expected = losses(reference);
        float[][] actual = losses(device);
        for (int i = 0; i < expected.length; i++) {
            assertClose("loss/optimizer result " + i, expected[i], actual[i]);
        }
    }

    /**
     * Segmentation's pixel counts on the device's activation layout (channels-last where it
     * computes so) against the reference's row-major ones, with ignored and out-of-range labels and
     * tied logits (small integers), counted twice into one vector.
     */
    @Test
    void countSegmentationAgainstTheReference() {
        Shape shape = Shape.of(3, 4, 5, 7);
        float[] values = new float[(int) shape.elementCount()];
        SplittableRandom random = new SplittableRandom(21);
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(4) - 1f;
        }
        int[] labels = TestData.labels(3 * 5 * 7, 4, 22);
        labels[5] = 255;
        labels[40] = 255;
        labels[77] = 9;
        int[][] counts = new int[2][];
        int index = 0;
        for (Device d : List.of(reference, device)) {
            try (Tensor logits = d.allocateActivation(shape).copyFrom(values);
                 Tensor target = d.fromInts(Shape.of(3, 5, 7), labels);
                 Tensor total = d.allocate(Shape.of(ReductionKernels.segmentationCountsLength(4)), DType.I32)) {
                d.reductions().countSegmentation(logits, target, 255, total);
                d.reductions().countSegmentation(logits, target, 255, total);
                counts[index++] = total.toIntArray();
            }
        }
        assertEquals(2 * (labels.length - 3), counts[0][ReductionKernels.SEGMENTATION_COUNTED], "pixels counted");
        assertTrue(counts[0][ReductionKernels.SEGMENTATION_CORRECT] > 0, "a case with hits: " + counts[0][0]);
        assertArrayEquals(counts[0], counts[1], "segmentation counts on " + device.name() + " against the reference");
    }

    /** Per-pixel cross-entropy with ignored labels, on the device's activation layout for [N, C, H, W]. */
    @Test
    void spatialCrossEntropyWithIgnoredPixels() {
        float[][] expected = spatialCrossEntropy(reference);
        float[][] actual = spatialCrossEntropy(device);
        assertClose("spatial cross-entropy loss", expected[0], actual[0]);
        assertClose("spatial cross-entropy gradient", expected[1], actual[1]);
    }

    private static float[][] spatialCrossEntropy(Device d) {
        Shape shape = Shape.of(2, 4, 3, 5);
        int[] labels = TestData.labels(30, 4, 7);
        labels[3] = 255;
        labels[17] = 255;
        try (Tensor logits = d.allocateActivation(shape).copyFrom(TestData.uniform(120, 3, 8));
             Tensor target = d.fromInts(Shape.of(2, 3, 5), labels);
             Tensor loss = d.allocate(Shape.of(1)); Tensor grad = d.allocate(shape)) {
            d.losses().spatialCrossEntropy(logits, target, 255, loss, grad);
            return new float[][] {loss.toFloatArray(), grad.toFloatArray()};
        }
    }

    private static float[][] losses(Device d) {
        Shape shape = Shape.of(6, 5);
        float[][] results = new float[20][];
        int r = 0;
        try (Tensor logits = d.fromArray(shape, TestData.uniform(30, 3, 1));
             Tensor labels = d.fromInts(Shape.of(6), TestData.labels(6, 5, 2));
             Tensor target = d.fromArray(shape, TestData.uniform(30, 1, 3));
             Tensor loss = d.allocate(Shape.of(1)); Tensor grad = d.allocate(shape)) {
            d.losses().softmaxCrossEntropy(logits, labels, 0.1f, loss, grad);
            results[r++] = loss.toFloatArray();
            results[r++] = grad.toFloatArray();
            for (PointwiseLoss kind : PointwiseLoss.values()) {
                d.losses().pointwise(kind, 0.5f, logits, target, loss, grad);
                results[r++] = concat(loss.toFloatArray(), grad.toFloatArray());
            }
            d.losses().softTargetKl(logits, target, 2f, loss, grad);
            results[r++] = concat(loss.toFloatArray(), grad.toFloatArray());
            try (Tensor penalised = d.fromArray(shape, TestData.uniform(30, 1, 7))) {
                d.optimizers().l1Penalty(logits, penalised, 0.25f);
                results[r++] = penalised.toFloatArray();
            }
            // Each rule on its own parameter and state, two steps each.
            Tensor[] t = new Tensor[12];
            try {
                for (int i = 0; i < t.length; i++) {
                    t[i] = i % 3 == 0 ? d.fromArray(shape, TestData.uniform(30, 1, 5 + i)) : d.allocate(shape);
                }
                try (Tensor g = d.fromArray(shape, TestData.uniform(30, 1, 6))) {
                    for (int step = 1; step <= 2; step++) {
                        d.optimizers().sgd(t[0], g, t[1], 0.1f, 0.9f, 0f, 0.01f, true, step == 1);
                        d.optimizers().adam(t[3], g, t[4], t[5], 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, step == 2, step);
                        d.optimizers().rmsprop(t[6], g, t[7], t[8], null, 0.01f, 0.9f, 1e-8f, 0f, 0f);
                        d.optimizers().adagrad(t[9], g, t[10], 0.05f, 1e-10f, 0.01f);
                    }
                }
                for (int i = 0; i < t.length; i++) {
                    if (i != 2 && i != 11) {
                        results[r++] = t[i].toFloatArray();
                    }
                }
            } finally {
                for (Tensor tensor : t) {
                    if (tensor != null) {
                        tensor.close();
                    }
                }
            }
        }
        return java.util.Arrays.copyOf(results, r);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    // ---------------------------------------------------------------- layers

    List<LayerCases.Case> layerCases() {
        return LayerCases.all();
    }

    /** Forward (training and eval) and backward of one layer on both devices, from the same parameters and inputs. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("layerCases")
    void layersMatchTheReference(LayerCases.Case layerCase) {
        LayerRun expected = runLayer(reference, layerCase, false);
        for (boolean rowMajorInput : new boolean[] {false, true}) {
            LayerRun actual = runLayer(device, layerCase, rowMajorInput);
            String what = layerCase.name() + (rowMajorInput ? " (row-major input)" : "");
            assertClose(what + " output", expected.output, actual.output);
            assertClose(what + " input gradient", expected.gradInput, actual.gradInput);
            assertClose(what + " parameter gradients", expected.gradients, actual.gradients);
            assertClose(what + " buffers", expected.buffers, actual.buffers);
            assertClose(what + " eval output", expected.evalOutput, actual.evalOutput);
            assertClose(what + " eval input gradient", expected.evalGradInput, actual.evalGradInput);
            assertClose(what + " eval parameter gradients", expected.evalGradients, actual.evalGradients);
        }
    }

    private record LayerRun(float[] output, float[] gradInput, float[] gradients, float[] buffers, float[] evalOutput,
                            float[] evalGradInput, float[] evalGradients) {
    }

    private static LayerRun runLayer(Device d, LayerCases.Case layerCase, boolean rowMajorInput) {
        Shape shape = layerCase.input();
        float[] values = layerCase.spaced() ? TestData.spaced((int) shape.elementCount(), 0.05, 3)
                : TestData.uniform((int) shape.elementCount(), 1, 3);
        try (Layer layer = layerCase.factory().get();
             Tensor input = (rowMajorInput ? d.allocate(shape) : d.allocateActivation(shape)).copyFrom(values)) {
            Shape output = layer.setup(d, shape);
            layer.resetParameters(new SplittableRandom(11));
            for (Parameter parameter : layer.parameters()) {
                d.elementwise().fill(parameter.grad(), 0f);
            }
            float[] forward = layer.forward(input, true).toFloatArray();
            try (Tensor gradOutput = d.allocateActivation(output).copyFrom(TestData.uniform((int) output.elementCount(), 1, 4))) {
                Tensor gradInput = layer.backward(gradOutput);
                float[] gradients = new float[0];
                for (Parameter parameter : layer.parameters()) {
                    gradients = concat(gradients, parameter.grad().toFloatArray());
                }
                float[] buffers = new float[0];
                for (NamedTensor buffer : layer.buffers()) {
                    buffers = concat(buffers, buffer.tensor().toFloatArray());
                }
                float[] gradInputValues = gradInput == null ? new float[0] : gradInput.toFloatArray();
                float[] eval = layer.forward(input, false).toFloatArray();
                // Backward after the eval forward: batch norm frozen on its running statistics, dropout the identity.
                for (Parameter parameter : layer.parameters()) {
                    d.elementwise().fill(parameter.grad(), 0f);
                }
                Tensor evalGradInput = layer.backward(gradOutput);
                float[] evalGradients = new float[0];
                for (Parameter parameter : layer.parameters()) {
                    evalGradients = concat(evalGradients, parameter.grad().toFloatArray());
                }
                return new LayerRun(forward, gradInputValues, gradients, buffers, eval,
                        evalGradInput == null ? new float[0] : evalGradInput.toFloatArray(), evalGradients);
            }
        }
    }
}
