package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.io.SafeTensors;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.Fixtures;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * MaxPool2d(ceil_mode=True) against PyTorch (fixtures/ceil_pool, from make_fixtures_ceil_pool.py)
 * on both CPU engines, by finite differences, and its output-size rule.
 */
class CeilModePoolingTest {
    private static final double RTOL = 1e-5;
    private static final double ATOL = 1e-6;
    private static Device onednn;
    private static Device openblas;

    @BeforeAll
    static void open() {
        onednn = new CpuDevice(2, CpuBackend.AUTO);
        openblas = new CpuDevice(2, CpuBackend.OPENBLAS);
    }

    @AfterAll
    static void close() {
        onednn.close();
        openblas.close();
    }

    static Stream<Arguments> fixtures() {
        List<Arguments> cases = new ArrayList<>();
        for (String name : Fixtures.cases("ceil_pool")) {
            cases.add(arguments(name, "default"));
            cases.add(arguments(name, "openblas"));
        }
        return cases.stream();
    }

    private static MaxPool2d build(Map<String, Object> config) {
        return new MaxPool2d(first(config, "kernel_size"), first(config, "stride"), first(config, "padding"),
                (Boolean) config.get("ceil_mode"));
    }

    private static int first(Map<String, Object> config, String key) {
        return ((Number) ((List<?>) config.get(key)).get(0)).intValue();
    }

    @Test
    void fixturesExist() {
        assertTrue(Fixtures.cases("ceil_pool").size() >= 6, "fixtures/ceil_pool is missing its cases");
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name, String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        try (SafeTensors fixture = Fixtures.open("ceil_pool", name); MaxPool2d layer = build(Fixtures.config(fixture))) {
            layer.setPropagateDown(true);
            Shape inputShape = Shape.of(fixture.entry("input").shape());
            layer.setup(device, inputShape);
            assertEquals(Shape.of(fixture.entry("output").shape()), layer.outputShape(), name + " output shape");
            try (Tensor input = device.fromArray(inputShape, fixture.floats("input"));
                 Tensor gradOutput = device.fromArray(layer.outputShape(), fixture.floats("grad_output"))) {
                assertClose(name + " output", fixture.floats("output"), layer.forward(input, true).toFloatArray(), RTOL, ATOL);
                assertClose(name + " input gradient", fixture.floats("grad_input"), layer.backward(gradOutput).toFloatArray(),
                        RTOL, ATOL);
            }
        }
    }

    @ParameterizedTest(name = "gradient on {0}")
    @ValueSource(strings = {"default", "openblas"})
    void gradientMatchesFiniteDifferences(String engine) {
        Device device = engine.equals("openblas") ? openblas : onednn;
        Shape inputShape = Shape.of(2, 2, 8, 7);
        try (MaxPool2d layer = new MaxPool2d(3, 2, 1).ceilMode(true)) {
            layer.setPropagateDown(true);
            layer.setup(device, inputShape);
            assertEquals(Shape.of(2, 2, 5, 4), layer.outputShape());
            try (Tensor input = device.fromArray(inputShape, TestData.uniform((int) inputShape.elementCount(), 1.0, 5))) {
                GradientChecker.Report report = new GradientChecker().check(layer, input, 17);
                assertTrue(report.passed(), report.toString());
                assertTrue(report.probes() > 0, "nothing was probed");
            }
        }
    }

    @Test
    void outputSizesFollowPyTorchIncludingTheStartRule() {
        // torch: MaxPool2d(3, 2, ceil_mode=True) on 112 gives 56 (GoogLeNet's stem), floor mode 55.
        assertEquals(56, geometry(112, 3, 2, 0, true).outHeight());
        assertEquals(55, geometry(112, 3, 2, 0, false).outHeight());
        // ceil((5 + 2 - 2) / 2) + 1 = 4, but a fourth window would start at 6 >= 5 + 1: 3.
        assertEquals(3, geometry(5, 2, 2, 1, true).outHeight());
        assertEquals(1, geometry(8, 3, 2, 0, true).extraPadBottom());
        assertEquals(0, geometry(8, 3, 2, 0, false).extraPadBottom());
        assertTrue(new MaxPool2d(3, 2, 0, true).describe().contains("ceil_mode=True"));
    }

    @Test
    void settingsChangeBeforeSetupOnly() {
        try (MaxPool2d pool = new MaxPool2d(2)) {
            pool.setup(onednn, Shape.of(1, 1, 4, 4));
            assertThrows(IllegalStateException.class, () -> pool.ceilMode(true));
        }
    }

    private static PoolGeometry geometry(int size, int kernel, int stride, int padding, boolean ceil) {
        return new PoolGeometry(PoolMode.MAX, 1, 1, size, size, kernel, kernel, stride, stride, padding, padding, ceil);
    }
}
