package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.device.cpu.CpuBackend;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import dev.isthmus.testing.GradientChecker;
import dev.isthmus.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.isthmus.testing.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synchronised batch norm (SyncBatchNorm): two "processes" (threads, each with its own device and
 * its half of the batch, summing through a barrier) compute what one batch norm computes on the
 * whole batch — outputs, input gradients, the sum of their γ/β gradients, running statistics.
 */
class SyncBatchNormTest {
    private static final Shape WHOLE = Shape.of(8, 3, 4, 4);
    private static final int HALF = 8 / 2 * 3 * 16;

    /** The two-party sum: each side posts its values, both wait, both add, both wait again. */
    private static final class TwoParties {
        private final CyclicBarrier barrier = new CyclicBarrier(2);
        private final double[][] posted = new double[2][];

        SumAcrossProcesses side(int rank) {
            return values -> {
                posted[rank] = values.clone();
                await();
                double[] other = posted[1 - rank];
                for (int i = 0; i < values.length; i++) {
                    values[i] = rank == 0 ? values[i] + other[i] : other[i] + values[i];
                }
                await();
            };
        }

        private void await() {
            try {
                barrier.await();
            } catch (Exception broken) {
                throw new IllegalStateException(broken);
            }
        }
    }

    /** What one side (or the whole) computed: y, dx, dγ, dβ, running mean, running variance. */
    private record Result(float[] output, float[] inputGradient, float[] weightGrad, float[] biasGrad, float[] runningMean,
                          float[] runningVar) {
    }

    private static Result run(CpuBackend backend, BatchNorm2d norm, Shape shape, float[] x, float[] dy) {
        try (Device device = new CpuDevice(1, backend); BatchNorm2d layer = norm) {
            layer.setPropagateDown(true);
            layer.setup(device, shape);
            layer.resetParameters(new SplittableRandom(1));
            layer.parameters().get(0).value().copyFrom(new float[] {0.5f, 1.5f, -2f});
            layer.parameters().get(1).value().copyFrom(new float[] {0.1f, -0.3f, 0.2f});
            for (Parameter parameter : layer.parameters()) {
                device.elementwise().fill(parameter.grad(), 0f);
            }
            // Two steps, so the running statistics move twice and the second uses them.
            float[] y = null;
            float[] dx = null;
            for (int step = 0; step < 2; step++) {
                try (Tensor input = device.fromArray(shape, x); Tensor gradient = device.fromArray(shape, dy)) {
                    y = layer.forward(input, true).toFloatArray();
                    dx = layer.backward(gradient).toFloatArray();
                }
            }
            return new Result(y, dx, layer.parameters().get(0).grad().toFloatArray(), layer.parameters().get(1).grad().toFloatArray(),
                    layer.buffers().get(0).tensor().toFloatArray(), layer.buffers().get(1).tensor().toFloatArray());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = CpuBackend.class, names = {"AUTO", "OPENBLAS"})
    void twoSynchronisedHalvesComputeWhatOneBatchNormComputesOnTheWhole(CpuBackend backend) throws Exception {
        float[] x = TestData.uniform((int) WHOLE.elementCount(), 2.0, 7);
        for (int i = 0; i < x.length; i++) {
            x[i] += (i / 16 % 3) - 1; // channel means away from 0
        }
        float[] dy = TestData.uniform((int) WHOLE.elementCount(), 1.0, 8);
        Result whole = run(backend, new BatchNorm2d(3), WHOLE, x, dy);

        TwoParties parties = new TwoParties();
        Shape half = Shape.of(4, 3, 4, 4);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<Result> first = threads.submit(() -> run(backend, (BatchNorm2d) new BatchNorm2d(3).synchronize(parties.side(0)), half,
                    Arrays.copyOfRange(x, 0, HALF), Arrays.copyOfRange(dy, 0, HALF)));
            Future<Result> second = threads.submit(() -> run(backend, (BatchNorm2d) new BatchNorm2d(3).synchronize(parties.side(1)), half,
                    Arrays.copyOfRange(x, HALF, 2 * HALF), Arrays.copyOfRange(dy, HALF, 2 * HALF)));
            Result a = first.get();
            Result b = second.get();
            assertClose("output", whole.output(), concat(a.output(), b.output()), 1e-5, 1e-5);
            assertClose("input gradient", whole.inputGradient(), concat(a.inputGradient(), b.inputGradient()), 1e-4, 1e-5);
            assertClose("weight gradient (sum of the sides)", whole.weightGrad(), add(a.weightGrad(), b.weightGrad()), 1e-4, 1e-5);
            assertClose("bias gradient (sum of the sides)", whole.biasGrad(), add(a.biasGrad(), b.biasGrad()), 1e-4, 1e-5);
            for (Result side : new Result[] {a, b}) {
                assertClose("running mean", whole.runningMean(), side.runningMean(), 1e-5, 1e-6);
                assertClose("running variance", whole.runningVar(), side.runningVar(), 1e-5, 1e-6);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void oneProcessSynchronisedPassesTheGradientCheck() {
        try (Device device = new CpuDevice(1); BatchNorm2d norm = new BatchNorm2d(2)) {
            norm.synchronize(values -> { });
            norm.setPropagateDown(true);
            Shape shape = Shape.of(3, 2, 3, 3);
            norm.setup(device, shape);
            norm.resetParameters(new SplittableRandom(2));
            try (Tensor input = device.fromArray(shape, TestData.uniform((int) shape.elementCount(), 1.0, 3))) {
                GradientChecker.Report report = new GradientChecker().check(norm, input, 5);
                assertTrue(report.passed(), report.toString());
            }
        }
    }

    @Test
    void synchronisingABuiltLayerIsRefused() {
        try (Device device = new CpuDevice(1); BatchNorm2d norm = new BatchNorm2d(2)) {
            norm.setup(device, Shape.of(2, 2, 2, 2));
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> norm.synchronize(values -> { }));
            assertTrue(refused.getMessage().contains("before the model is built"), refused.getMessage());
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static float[] add(float[] a, float[] b) {
        float[] sum = a.clone();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += b[i];
        }
        return sum;
    }
}
