package dev.isthmus.nn;

import dev.isthmus.device.Activation;
import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static dev.isthmus.nn.MixedPrecisionLayerTest.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs a mixed-precision model keeps in BF16 (convolution → batch norm → ReLU → convolution, and a
 * residual branch ending in batch norm; see Sequential): which hand-offs are BF16, and that a
 * residual block computed that way stays within BF16's tolerance of the same block in FP32 —
 * outputs, input gradients, parameter gradients and running statistics, in training and in eval
 * mode (whose backward differentiates the frozen batch norm). Bounds, relative in the 2-norm: the
 * block's output and running statistics 1e-2, as a single layer's (MixedPrecisionLayerTest);
 * gradients 1.5e-1. The gradients' bound is loose because batch norm's training backward removes
 * the batch mean and the projection on x̂ from dy and passes on a small remainder, which BF16's
 * rounding of the convolutions' operands perturbs by several per cent on a batch this small. It
 * is the policy's, not the runs': with every activation F32 (the policy before these runs) the
 * identity block's worst gradient, conv1's weight, measured 10.3% from FP32, its input gradient
 * 8.3% and its output 0.27%; with the run in BF16, 10.25%, 8.5% and 0.36%.
 */
class LowPrecisionRunTest {
    private static final double OUTPUT_RELATIVE = 1e-2;
    private static final double GRADIENT_RELATIVE = 1.5e-1;
    private static CpuDevice onednn;
    private static CpuDevice openblas;

    @BeforeAll
    static void open() {
        onednn = new CpuDevice(2, CpuBackend.ONEDNN);
        openblas = new CpuDevice(2, CpuBackend.OPENBLAS);
    }

    @AfterAll
    static void close() {
        onednn.close();
        openblas.close();
    }

    private static void assumeBf16() {
        Assumptions.assumeTrue(onednn.carriesLowPrecision(DType.BF16),
                "BF16 is not offered on this CPU: " + onednn.lowPrecisionSupport(DType.BF16));
    }

    private static Conv2d conv3x3(int in, int out, int stride) {
        return Conv2d.of(in, out, 3).stride(stride).padding(1).bias(false);
    }

    /** ResNet's basic block: conv → bn → relu → conv → bn, plus identity or a 1×1 projection, then relu. */
    private static Residual block(int in, int out, int stride) {
        Sequential main = new Sequential().add("conv1", conv3x3(in, out, stride)).add("bn1", new BatchNorm2d(out))
                .add("relu", new ReLU()).add("conv2", conv3x3(out, out, 1)).add("bn2", new BatchNorm2d(out));
        Layer shortcut = stride == 1 && in == out ? null
                : new Sequential(Conv2d.of(in, out, 1).stride(stride).bias(false), new BatchNorm2d(out));
        return new Residual(main, shortcut, true);
    }

    @Test
    void aBlockKeepsItsInnerRunInBf16AndHandsF32On() {
        assumeBf16();
        try (Residual block = block(8, 16, 2)) {
            block.setPrecision(Precision.BF16);
            block.setup(onednn, Shape.of(4, 8, 12, 12));
            List<Layer> layers = block.mainBranch().layers();
            assertEquals(DType.F32, layers.get(0).inputType(), "the block's input reaches conv1 in F32");
            assertEquals(DType.BF16, layers.get(0).outputType(), "conv1 writes BF16");
            for (int i = 1; i <= 3; i++) {
                assertEquals(DType.BF16, layers.get(i).inputType(), layers.get(i).describe());
            }
            assertEquals(DType.BF16, layers.get(4).outputType(), "bn2 hands the sum BF16");
            assertEquals(DType.BF16, block.mainBranch().outputType());
            assertEquals(DType.F32, block.shortcut().outputType(), "the projection stays F32");
            assertEquals(DType.F32, block.outputType(), "the block's output is F32");
        }
    }

    /** A CIFAR ResNet in small: stem, a stage of two blocks, pooling, the classifier. */
    private static Sequential network() {
        Sequential stage = new Sequential().add("0", block(8, 8, 1)).add("1", block(8, 16, 2));
        return new Sequential().add("conv1", conv3x3(3, 8, 1)).add("bn1", new BatchNorm2d(8)).add("relu", new ReLU())
                .add("layer1", stage).add("avgpool", new GlobalAvgPool2d()).add("flatten", new Flatten())
                .add("fc", new Linear(16, 5));
    }

    @Test
    void aStageOfBlocksHandsBf16FromBlockToBlockAndF32ToThePooling() {
        assumeBf16();
        try (Sequential network = network()) {
            network.setPrecision(Precision.BF16);
            network.setup(onednn, Shape.of(4, 3, 12, 12));
            Sequential stage = (Sequential) network.layers().get(3);
            Residual first = (Residual) stage.layers().get(0);
            Residual second = (Residual) stage.layers().get(1);
            assertEquals(DType.F32, network.layers().get(0).inputType(), "the image reaches the stem in F32");
            assertEquals(DType.BF16, network.layers().get(0).outputType());
            assertEquals(DType.BF16, stage.inputType());
            assertEquals(DType.BF16, first.inputType());
            assertEquals(DType.BF16, first.outputType(), "block to block in BF16");
            assertEquals(DType.BF16, second.inputType());
            assertEquals(DType.BF16, second.shortcut().outputType(), "a BF16 block's projection ends in BF16");
            assertEquals(DType.F32, second.outputType(), "the last block hands the pooling F32");
            assertEquals(DType.F32, stage.outputType());
            assertEquals(DType.F32, network.outputType());
        }
    }

    @Test
    void aStageInBf16TracksFp32() {
        assumeBf16();
        Shape inputShape = Shape.of(8, 3, 12, 12);
        try (Sequential fp32 = network(); Sequential bf16 = network()) {
            setUpTwins(fp32, bf16, inputShape, 5);
            SplittableRandom values = new SplittableRandom(9);
            float[] x = gaussian(values, inputShape);
            float[] dy = gaussian(values, fp32.outputShape());
            float[][] expected = run(fp32, inputShape, x, dy, true);
            float[][] actual = run(bf16, inputShape, x, dy, true);
            assertWithin("logits", expected[0], actual[0], OUTPUT_RELATIVE);
            // Per tensor, batch norm's γ/β gradients deep in a freshly initialised network are
            // near-cancelling sums: with every activation F32 the worst measured 20.0% from FP32
            // here (layer1.1.bn1.bias), with the stage in BF16 21.5% (layer1.0.bn2.bias), others
            // better than before. So each tensor is held to 3e-1, and all gradients together, a
            // measure the large convolution gradients dominate, to the per-layer bound 1.5e-1.
            List<Parameter> expectedParameters = fp32.parameters();
            List<Parameter> actualParameters = bf16.parameters();
            float[] allExpected = new float[0];
            float[] allActual = new float[0];
            for (int i = 0; i < expectedParameters.size(); i++) {
                float[] want = expectedParameters.get(i).grad().toFloatArray();
                float[] got = actualParameters.get(i).grad().toFloatArray();
                assertWithin(actualParameters.get(i).name() + " gradient", want, got, 2 * GRADIENT_RELATIVE);
                allExpected = concat(allExpected, want);
                allActual = concat(allActual, got);
            }
            assertWithin("all parameter gradients", allExpected, allActual, GRADIENT_RELATIVE);
        }
    }

    @Test
    void withoutBf16ActivationsEverythingStaysF32() {
        try (Residual block = block(8, 8, 1)) {
            block.setPrecision(Precision.FP32);
            block.setup(onednn, Shape.of(2, 8, 6, 6));
            for (Layer layer : block.mainBranch().layers()) {
                assertEquals(DType.F32, layer.outputType(), "FP32 policy: " + layer.describe());
            }
        }
        assertTrue(!openblas.carriesLowPrecision(DType.BF16), "OpenBLAS's Java kernels are F32");
    }

    @Test
    void identityBlockTracksFp32InTraining() {
        assumeBf16();
        compareWithFp32(8, 8, 1, true);
    }

    @Test
    void projectionBlockTracksFp32InTraining() {
        assumeBf16();
        compareWithFp32(8, 16, 2, true);
    }

    @Test
    void evalModeBackwardThroughBf16BatchNormTracksFp32() {
        assumeBf16();
        compareWithFp32(8, 8, 1, false);
    }

    /** The same block (same initial parameters) in FP32 and in BF16: one forward and one backward. */
    private static void compareWithFp32(int in, int out, int stride, boolean training) {
        Shape inputShape = Shape.of(4, in, 10, 10);
        try (Residual fp32 = block(in, out, stride); Residual bf16 = block(in, out, stride)) {
            setUpTwins(fp32, bf16, inputShape, 7);
            SplittableRandom values = new SplittableRandom(11);
            float[] x = gaussian(values, inputShape);
            float[] dy = gaussian(values, fp32.outputShape());
            if (!training) {
                // Running statistics away from (0, 1), from a few training forwards, for eval mode to use.
                try (Tensor input = onednn.fromArray(inputShape, x)) {
                    for (int i = 0; i < 3; i++) {
                        fp32.forward(input, true);
                        bf16.forward(input, true);
                    }
                }
            }
            float[][] expected = run(fp32, inputShape, x, dy, training);
            float[][] actual = run(bf16, inputShape, x, dy, training);
            assertWithin("output", expected[0], actual[0], OUTPUT_RELATIVE);
            assertWithin("input gradient", expected[1], actual[1], GRADIENT_RELATIVE);
            List<Parameter> expectedParameters = fp32.parameters();
            List<Parameter> actualParameters = bf16.parameters();
            for (int i = 0; i < expectedParameters.size(); i++) {
                assertEquals(DType.F32, actualParameters.get(i).grad().dtype(), "gradients accumulate in F32");
                assertWithin(actualParameters.get(i).name() + " gradient", expectedParameters.get(i).grad().toFloatArray(),
                        actualParameters.get(i).grad().toFloatArray(), GRADIENT_RELATIVE);
            }
            List<NamedTensor> expectedBuffers = fp32.buffers();
            List<NamedTensor> actualBuffers = bf16.buffers();
            for (int i = 0; i < expectedBuffers.size(); i++) {
                assertEquals(DType.F32, actualBuffers.get(i).tensor().dtype(), "statistics stay F32");
                assertWithin(actualBuffers.get(i).name(), expectedBuffers.get(i).tensor().toFloatArray(),
                        actualBuffers.get(i).tensor().toFloatArray(), OUTPUT_RELATIVE);
            }
        }
    }

    private static float[][] run(Layer block, Shape inputShape, float[] x, float[] dy, boolean training) {
        for (Parameter parameter : block.parameters()) {
            onednn.elementwise().fill(parameter.grad(), 0f);
        }
        block.setPropagateDown(true);
        try (Tensor input = onednn.fromArray(inputShape, x);
             Tensor gradOutput = onednn.fromArray(block.outputShape(), dy)) {
            float[] output = block.forward(input, training).toFloatArray();
            float[] gradInput = block.backward(gradOutput).toFloatArray();
            return new float[][] {output, gradInput};
        }
    }

    /** The same network twice, FP32 and BF16, with the same initial parameters. */
    private static void setUpTwins(Layer fp32, Layer bf16, Shape inputShape, long seed) {
        fp32.setup(onednn, inputShape);
        bf16.setPrecision(Precision.BF16);
        bf16.setup(onednn, inputShape);
        fp32.resetParameters(new SplittableRandom(seed));
        bf16.resetParameters(new SplittableRandom(seed));
    }

    private static float[] gaussian(SplittableRandom random, Shape shape) {
        float[] values = new float[(int) shape.elementCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static float[] concat(float[] first, float[] second) {
        float[] joined = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        return joined;
    }

    private static void assertWithin(String what, float[] fp32, float[] bf16, double bound) {
        double error = relativeError(fp32, bf16);
        assertTrue(error <= bound, what + ": BF16 run is " + error + " from FP32 (relative, 2-norm), over " + bound);
    }

    @Test
    void kernelsRefuseBf16WhereTheDeviceDoesNotCarryIt() {
        Shape shape = Shape.of(2, 4, 3, 3);
        try (Tensor low = openblas.allocate(shape, DType.BF16, openblas.activationLayout(shape));
             Tensor f32 = openblas.allocateActivation(shape)) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> openblas.activations().forward(Activation.RELU, 0f, low, f32));
            assertTrue(refused.getMessage().contains("BF16"), refused.getMessage());
            assertThrows(IllegalArgumentException.class, () -> openblas.elementwise().addRelu(low, f32, f32));
        }
    }

    @Test
    void kernelsRefuseMixedOperandsThatAreNotASum() {
        assumeBf16();
        Shape shape = Shape.of(2, 4, 3, 3);
        try (Tensor low = onednn.allocate(shape, DType.BF16, onednn.activationLayout(shape));
             Tensor f32 = onednn.allocateActivation(shape)) {
            // ReLU keeps its type; the sum writes F32 only; a product stays F32.
            assertThrows(IllegalArgumentException.class, () -> onednn.activations().forward(Activation.RELU, 0f, low, f32));
            assertThrows(IllegalArgumentException.class, () -> onednn.activations().forward(Activation.TANH, 0f, low, low));
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().addRelu(f32, f32, low));
            assertThrows(IllegalArgumentException.class, () -> onednn.elementwise().mul(low, f32, f32));
        }
    }

    @Test
    void bf16ReluAndMixedSumMatchTheirF32Values() {
        assumeBf16();
        Shape shape = Shape.of(2, 4, 3, 3);
        int count = (int) shape.elementCount();
        float[] a = new float[count];
        float[] b = new float[count];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < count; i++) {
            // Values BF16 holds exactly, so the F32 results are the reference to the last bit.
            a[i] = Math.round(random.nextGaussian() * 64) / 64f;
            b[i] = Math.round(random.nextGaussian() * 64) / 64f;
        }
        try (Tensor a32 = onednn.fromArray(shape, a); Tensor b32 = onednn.fromArray(shape, b);
             Tensor aLow = onednn.allocate(shape, DType.BF16, onednn.activationLayout(shape));
             Tensor yLow = onednn.allocate(shape, DType.BF16, onednn.activationLayout(shape));
             Tensor y32 = onednn.allocateActivation(shape); Tensor sum = onednn.allocateActivation(shape)) {
            Device device = onednn;
            device.elementwise().convert(a32, aLow);
            device.activations().forward(Activation.RELU, 0f, aLow, yLow);
            device.elementwise().convert(yLow, y32);
            float[] relu = y32.toFloatArray();
            device.elementwise().addRelu(aLow, b32, sum);
            float[] added = sum.toFloatArray();
            device.elementwise().addRelu(b32, aLow, sum);
            float[] swapped = sum.toFloatArray();
            for (int i = 0; i < count; i++) {
                assertEquals(Math.max(a[i], 0f), relu[i], 0f, "relu at " + i);
                assertEquals(Math.max(a[i] + b[i], 0f), added[i], 0f, "addRelu at " + i);
                assertEquals(added[i], swapped[i], 0f, "addRelu commutes at " + i);
            }
        }
    }
}
