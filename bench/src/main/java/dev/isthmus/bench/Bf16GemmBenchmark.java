package dev.isthmus.bench;

import dev.isthmus.device.Device;
import dev.isthmus.device.InnerProductPlan;
import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.tensor.DType;
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
 * Square BF16 GEMM with F32 accumulation and F32 output (y = x·Wᵀ, n × n × n), GFLOP/s = 2n³ /
 * time: the "BF16 GEMM ceiling" the report sets BF16 convolutions and bf16 model rows against. It
 * runs through the library's own path, {@code device.innerProduct(n, n, n, BF16)} — oneDNN's inner
 * product on BF16 operands, what mixed precision's Linear calls — so it measures what Isthmus can
 * reach, not a hand-built primitive. The input is BF16; the weight is the layer's F32 master copy,
 * which the plan converts into its BF16 copy on every call as a layer's forward does (n² elements
 * against 2n³ FLOPs: about 1% of the time at n = 512). The sizes are SgemmBenchmark's.
 *
 * <p>Where the CPU has no BF16 instructions the trial does not start: its setup throws with the
 * reason {@code --precision bf16} would give (ci/bench-report asks {@link Bf16Support} first and
 * leaves the benchmark out, printing that reason).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class Bf16GemmBenchmark {
    @Param({"512", "1024"})
    public int size;

    private Device device;
    private InnerProductPlan plan;
    private Tensor x;
    private Tensor weight;
    private Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        device = new CpuDevice();
        String reason = device.lowPrecisionSupport(DType.BF16);
        if (reason != null) {
            device.close();
            throw new UnsupportedOperationException("Bf16GemmBenchmark: no BF16 GEMM on this CPU: " + reason);
        }
        float[] values = new float[size * size];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 7) * 0.1f;
        }
        weight = device.fromArray(Shape.of(size, size), values);
        x = device.allocate(Shape.of(size, size), DType.BF16);
        device.elementwise().convert(weight, x);
        y = device.allocate(Shape.of(size, size));
        plan = device.innerProduct(size, size, size, DType.BF16);
    }

    @Benchmark
    public void onednn() {
        plan.forward(x, weight, null, y);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plan.close();
        x.close();
        weight.close();
        y.close();
        device.close();
    }
}
