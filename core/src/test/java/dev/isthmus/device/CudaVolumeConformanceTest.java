package dev.isthmus.device;

import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.device.cuda.CudaDevice;
import dev.isthmus.nn.AvgPool3d;
import dev.isthmus.nn.Conv3d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.LocalResponseNorm;
import dev.isthmus.nn.MaxPool3d;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cuDNN paths of LocalResponseNorm, Conv3d, MaxPool3d and AvgPool3d against the CPU device
 * (OpenBLAS + Java, which the PyTorch fixtures pin down) on the same parameters and inputs:
 * forward, input gradient and parameter gradients, twice in a row (the second pass reuses the
 * plans, descriptors and LRN scratch). Also the settings the CUDA device refuses with a reason
 * (LRN of even size or outside cuDNN's limits, a ceil-mode window over the edge). On a machine
 * without a usable GPU, CUDA driver or cuDNN every case is skipped with the reason, never passed.
 *
 * <p>Tolerance as {@link CudaConformanceTest}'s: 1e-3 relative, for cuDNN's summation orders.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaVolumeConformanceTest {
    private static final double TOLERANCE = 1e-3;

    private record Case(String name, Supplier<Layer> factory, Shape input) {
        @Override
        public String toString() {
            return name;
        }
    }

    private String unavailable;
    private Device reference;
    private Device cuda;

    @BeforeAll
    void open() {
        String why = CudaSupport.unavailableReason();
        unavailable = why == null ? null : "no usable GPU: " + why;
        if (unavailable == null) {
            reference = new CpuDevice(2, CpuBackend.OPENBLAS);
            cuda = new CudaDevice(0);
        }
    }

    @BeforeEach
    void requireGpu() {
        Assumptions.assumeTrue(unavailable == null, () -> unavailable);
    }

    @AfterAll
    void close() {
        if (cuda != null) {
            cuda.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    List<Case> cases() {
        return List.of(
                new Case("LocalResponseNorm(5) AlexNet's", () -> new LocalResponseNorm(5, 1e-4, 0.75, 2.0), Shape.of(2, 7, 4, 3)),
                new Case("LocalResponseNorm(3, alpha 0.5) rank 3", () -> new LocalResponseNorm(3, 0.5, 0.75, 1.0), Shape.of(3, 6, 5)),
                new Case("LocalResponseNorm(1, alpha 2, beta 0.5) rank 5",
                        () -> new LocalResponseNorm(1, 2.0, 0.5, 1.5), Shape.of(2, 3, 2, 3, 2)),
                new Case("LocalResponseNorm(15, alpha 0.9) wider than C", () -> new LocalResponseNorm(15, 0.9, 1.2, 1e-3),
                        Shape.of(2, 5, 3, 3)),
                new Case("Conv3d 3x3x3 pad 1", () -> Conv3d.of(3, 4, 3).padding(1), Shape.of(2, 3, 5, 6, 4)),
                new Case("Conv3d 1x3x3 stride 2 no bias", () -> Conv3d.of(2, 3, new Dims3(1, 3, 3)).stride(2).bias(false),
                        Shape.of(2, 2, 4, 7, 7)),
                new Case("Conv3d dilation 2 groups 2", () -> Conv3d.of(4, 6, 3).padding(2).dilation(2).groups(2),
                        Shape.of(1, 4, 5, 5, 6)),
                new Case("MaxPool3d 2", () -> MaxPool3d.of(2), Shape.of(2, 3, 4, 6, 4)),
                new Case("MaxPool3d 3 s2 p1", () -> MaxPool3d.of(3).stride(2).padding(1), Shape.of(2, 2, 5, 7, 6)),
                new Case("MaxPool3d 2 ceil mode, no overhang", () -> MaxPool3d.of(2).ceilMode(true), Shape.of(1, 2, 4, 4, 6)),
                new Case("AvgPool3d 3 s2 p1 (count_include_pad)", () -> AvgPool3d.of(3).stride(2).padding(1), Shape.of(2, 2, 5, 7, 6)),
                new Case("AvgPool3d 3 s2 p1 exclude", () -> AvgPool3d.of(3).stride(2).padding(1).countIncludePad(false),
                        Shape.of(1, 3, 5, 6, 5)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheCpuDevice(Case layerCase) {
        float[][] expected = run(reference, layerCase);
        float[][] actual = run(cuda, layerCase);
        String[] parts = {"output", "input gradient", "parameter gradients", "second output", "second input gradient"};
        for (int i = 0; i < parts.length; i++) {
            assertClose(layerCase.name() + " " + parts[i], expected[i], actual[i]);
        }
    }

    /** Forward and backward from the same seeded parameters, twice: outputs, input gradient, gradients. */
    private static float[][] run(Device device, Case layerCase) {
        Shape shape = layerCase.input();
        int count = (int) shape.elementCount();
        try (Layer layer = layerCase.factory().get();
             Tensor input = device.allocate(shape).copyFrom(TestData.spaced(count, 0.05, 3))) {
            Shape output = layer.setup(device, shape);
            layer.resetParameters(new SplittableRandom(11));
            for (Parameter parameter : layer.parameters()) {
                device.elementwise().fill(parameter.grad(), 0f);
            }
            try (Tensor gradOutput = device.allocate(output).copyFrom(TestData.uniform((int) output.elementCount(), 1, 4))) {
                float[] y = layer.forward(input, true).toFloatArray();
                float[] dx = layer.backward(gradOutput).toFloatArray();
                float[] gradients = new float[0];
                for (Parameter parameter : layer.parameters()) {
                    float[] g = parameter.grad().toFloatArray();
                    float[] both = Arrays.copyOf(gradients, gradients.length + g.length);
                    System.arraycopy(g, 0, both, gradients.length, g.length);
                    gradients = both;
                }
                float[] y2 = layer.forward(input, true).toFloatArray();
                float[] dx2 = layer.backward(gradOutput).toFloatArray();
                return new float[][] {y, dx, gradients, y2, dx2};
            }
        }
    }

    private void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= TOLERANCE * (1 + Math.abs(expected[i])))) {
                throw new AssertionError(what + "[" + i + "] on " + cuda.name() + ": expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    /** What cuDNN would compute differently from PyTorch, or cannot take, is refused with the reason, never run. */
    @Test
    void refusesWhatCudnnWouldComputeDifferently() {
        assertRefused(() -> new LocalResponseNorm(4, 1e-4, 0.75, 2.0), Shape.of(1, 6, 3, 3), "even");
        assertRefused(() -> new LocalResponseNorm(17, 1e-4, 0.75, 2.0), Shape.of(1, 20, 2, 2), "1..16");
        assertRefused(() -> new LocalResponseNorm(5, 1e-4, 0.75, 0.0), Shape.of(1, 6, 2, 2), "k 0.0");
        assertRefused(() -> new LocalResponseNorm(5, 1e-4, 0.0, 1.0), Shape.of(1, 6, 2, 2), "beta 0.0");
        assertRefused(() -> MaxPool3d.of(2).ceilMode(true), Shape.of(1, 2, 5, 4, 4), "ceil mode");
    }

    private void assertRefused(Supplier<Layer> factory, Shape shape, String reason) {
        try (Layer layer = factory.get(); Tensor input = cuda.allocate(shape)) {
            UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class, () -> {
                layer.setup(cuda, shape);
                layer.forward(input, true);
            });
            assertTrue(refused.getMessage().contains(reason), refused.getMessage());
        }
    }
}
