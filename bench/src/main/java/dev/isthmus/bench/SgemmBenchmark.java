package dev.isthmus.bench;

import dev.isthmus.device.Device;
import dev.isthmus.device.Transpose;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.device.cpu.OpenBlas;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Square SGEMM (C = A·B), GFLOP/s = 2n³ / time:
 * <ul>
 *   <li>{@code openBlas}: the generated OpenBLAS binding called directly, what
 *       {@code ci/bench-gemm} sets next to bench/c/sgemm_bench.c calling the same library from C
 *       (the cost of FFM), and the "SGEMM ceiling" the report compares convolutions with;</li>
 *   <li>{@code device}: the CPU device's validated GEMM, which runs on oneDNN's SGEMM when oneDNN is
 *       installed (AVX-512, where this machine's OpenBLAS is pinned to Haswell kernels).</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SgemmBenchmark {
    @Param({"256", "512", "1024", "2048"})
    public int size;

    private Device device;
    private Tensor a;
    private Tensor b;
    private Tensor c;

    @Setup(Level.Trial)
    public void setUp() {
        device = new CpuDevice();
        float[] values = new float[size * size];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 7) * 0.1f;
        }
        a = device.fromArray(Shape.of(size, size), values);
        b = device.fromArray(Shape.of(size, size), values);
        c = device.allocate(Shape.of(size, size));
    }

    @Benchmark
    public void openBlas() {
        OpenBlas.sgemm(false, false, size, size, size, 1f, a.memory(), size, b.memory(), size, 0f, c.memory(), size);
    }

    @Benchmark
    public void device() {
        device.blas().gemm(Transpose.NO, Transpose.NO, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        c.close();
        device.close();
    }
}
