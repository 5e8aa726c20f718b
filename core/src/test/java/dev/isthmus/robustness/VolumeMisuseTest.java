package dev.isthmus.robustness;

import dev.isthmus.device.Device;
import dev.isthmus.device.Dims3;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.AvgPool3d;
import dev.isthmus.nn.Conv3d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.MaxPool3d;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.util.SplittableRandom;

/**
 * The misuse campaign for the 3-D layers and the per-pixel cross-entropy: raw settings, random
 * inputs of any rank laced with NaN and infinities, on both CPU engines. Every case ends in
 * success or a documented exception with a message (see {@link Outcomes}).
 */
class VolumeMisuseTest {
    private static Device onednn;
    private static Device openblas;
    /** Cases that ran forward and backward, not refused: the campaign must reach the kernels. */
    private static final java.util.concurrent.atomic.AtomicInteger RAN = new java.util.concurrent.atomic.AtomicInteger();

    @BeforeContainer
    static void open() {
        onednn = new CpuDevice(2);
        openblas = new CpuDevice(1, CpuBackend.OPENBLAS);
    }

    @AfterContainer
    static void close() {
        onednn.close();
        openblas.close();
        if (RAN.get() < 40) {
            throw new AssertionError("only " + RAN.get() + " 3-D layer cases reached forward and backward");
        }
    }

    @Provide
    Arbitrary<Integer> small() {
        return Arbitraries.integers().between(-2, 5);
    }

    @Provide
    Arbitrary<int[]> dims() {
        return Arbitraries.integers().between(-1, 7).array(int[].class).ofMinSize(0).ofMaxSize(6);
    }

    @Property(tries = 400)
    void volumeLayersRefuseWhatDoesNotFitAndSurviveWhatDoes(@ForAll @IntRange(min = 0, max = 2) int kind,
                                                            @ForAll("small") int raw1, @ForAll("small") int raw2,
                                                            @ForAll("small") int raw3, @ForAll("small") int raw4,
                                                            @ForAll("dims") int[] input, @ForAll boolean poison,
                                                            @ForAll boolean ceil, @ForAll boolean fallback,
                                                            @ForAll boolean fitted) {
        Device device = fallback ? openblas : onednn;
        // Half the cases get settings in range and a volume with the layer's channels, so that many reach the kernels.
        int p1 = fitted ? 1 + Math.abs(raw1) % 3 : raw1;
        int p2 = fitted ? 1 + Math.abs(raw2) % 3 : raw2;
        int p3 = fitted ? 1 + Math.abs(raw3) % 3 : raw3;
        int p4 = fitted ? 1 + Math.abs(raw4) % 3 : raw4;
        Outcomes.run("layer3d", null, () -> {
            try (Layer layer = switch (kind) {
                case 0 -> Conv3d.of(p1, p2, new Dims3(p3, Math.abs(p4) + 1, p3)).stride(Math.max(1, p4 % 3)).padding(p4 % 2)
                        .dilation(Math.max(1, p1 % 3)).groups(Math.max(1, p2 % 3));
                case 1 -> MaxPool3d.of(new Dims3(p1, p2, p3)).stride(p4).padding(Math.max(0, p1 / 2)).ceilMode(ceil);
                default -> AvgPool3d.of(new Dims3(p1, p2, p3)).stride(p4).padding(Math.max(0, p2 / 2)).ceilMode(ceil)
                        .countIncludePad(poison);
            }) {
                Shape shape = fitted ? Shape.of(1 + Math.abs(p4) % 2, kind == 0 && p1 > 0 ? p1 : 1 + Math.abs(p2) % 3,
                        1 + Math.abs(p3) % 5, 2 + Math.abs(p1) % 5, 2 + Math.abs(p2) % 5) : Shape.of(input);
                if (shape.elementCount() > 1 << 14) {
                    return;
                }
                Shape output = layer.setup(device, shape);
                layer.resetParameters(new SplittableRandom(p1));
                float[] values = TestData.uniform((int) shape.elementCount(), 2, p2);
                if (poison && values.length > 0) {
                    values[0] = Float.NaN;
                    values[values.length - 1] = Float.NEGATIVE_INFINITY;
                }
                try (Tensor x = device.allocate(shape).copyFrom(values); Tensor dy = device.allocateActivation(output)) {
                    layer.forward(x, true);
                    layer.backward(dy);
                    layer.forward(x, false);
                    RAN.incrementAndGet();
                }
            }
        });
    }

    @Property(tries = 300)
    void spatialCrossEntropyRefusesBadLabelsAndShapes(@ForAll("dims") int[] logitDims, @ForAll("dims") int[] labelDims,
                                                      @ForAll @IntRange(min = -3, max = 6) int label,
                                                      @ForAll @IntRange(min = -1, max = 5) int ignoreIndex,
                                                      @ForAll boolean nan, @ForAll boolean fallback) {
        Device device = fallback ? openblas : onednn;
        Outcomes.run("loss3d", null, () -> {
            Shape logitsShape = Shape.of(logitDims);
            Shape labelsShape = Shape.of(labelDims);
            if (logitsShape.elementCount() > 1 << 12 || labelsShape.elementCount() > 1 << 12) {
                return;
            }
            int[] labels = new int[(int) labelsShape.elementCount()];
            java.util.Arrays.fill(labels, label);
            try (Tensor logits = device.allocateActivation(logitsShape); Tensor target = device.fromInts(labelsShape, labels);
                 CrossEntropyLoss loss = CrossEntropyLoss.ignoring(ignoreIndex)) {
                if (nan && logits.elementCount() > 0) {
                    device.elementwise().fill(logits, Float.NaN);
                }
                loss.forward(logits, target, true);
                loss.backward();
            }
        });
    }
}
