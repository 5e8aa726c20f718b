package dev.isthmus.bench;

import dev.isthmus.device.Activation;
import dev.isthmus.device.BatchNormPlan;
import dev.isthmus.device.ConvGeometry;
import dev.isthmus.device.ConvolutionPlan;
import dev.isthmus.device.Device;
import dev.isthmus.device.PoolGeometry;
import dev.isthmus.device.PoolMode;
import dev.isthmus.device.PoolingPlan;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The CPU device's layer kernels on the shapes of the canonical models, batch 64, activations in
 * the device's own layout: convolution forward / backward-data / backward-filter, max pooling,
 * batch norm and ReLU. The report turns convolution times into GFLOP/s (2 · multiply-adds / time)
 * and sets them next to the SGEMM ceiling measured in the same run.
 *
 * <p>The {@code ...Bf16} methods run the same three convolution kernels as mixed precision does
 * ({@code device.convolution(geometry, BF16)}: BF16 input and output gradient, the F32 master
 * weights converted by the plan on each call, F32 results); the report sets them against the BF16
 * GEMM ceiling ({@link Bf16GemmBenchmark}). They are separate methods rather than a precision
 * parameter so that pooling, batch norm and ReLU (F32 in a bf16 model too) are not run twice.
 * Where the CPU has no BF16 kernels they throw with the reason (ci/bench-report leaves them out).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LayerKernelsBenchmark {
    /** in channels, out channels, side of the input (3x3 kernels, padding 1). */
    @Param({"16x16x32", "32x32x16", "64x64x8", "32x64x16"})
    public String conv;

    private Device device;
    private ConvolutionPlan convolution;
    private PoolingPlan pooling;
    private BatchNormPlan batchNorm;
    private Tensor x;
    private Tensor weight;
    private Tensor weightGrad;
    private Tensor y;
    private Tensor dy;
    private Tensor dx;
    private Tensor pooled;
    private Tensor[] perChannel;
    private ConvolutionPlan bf16Convolution;
    private Tensor bf16X;
    private Tensor bf16Dy;
    /** Why there are no BF16 kernels here (null when there are). */
    private String noBf16;

    /** Multiply-adds of one convolution pass, for the report's GFLOP/s. */
    public static long multiplyAdds(String conv) {
        return geometry(conv).multiplyAdds();
    }

    static ConvGeometry geometry(String conv) {
        String[] parts = conv.split("x");
        int in = Integer.parseInt(parts[0]);
        int out = Integer.parseInt(parts[1]);
        int side = Integer.parseInt(parts[2]);
        return new ConvGeometry(64, in, side, side, out, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    }

    @Setup(Level.Trial)
    public void setUp() {
        device = new CpuDevice();
        ConvGeometry g = geometry(conv);
        SplittableRandom random = new SplittableRandom(1);
        x = filled(device.allocateActivation(g.inputShape()), random);
        weight = filled(device.allocate(g.weightShape()), random);
        weightGrad = device.allocate(g.weightShape());
        y = device.allocateActivation(g.outputShape());
        dy = filled(device.allocateActivation(g.outputShape()), random);
        dx = device.allocateActivation(g.inputShape());
        convolution = device.convolution(g);
        PoolGeometry pool = new PoolGeometry(PoolMode.MAX, 64, g.outChannels(), g.outHeight(), g.outWidth(), 2, 2, 2, 2, 0, 0);
        pooling = device.pooling(pool);
        pooled = device.allocateActivation(pool.outputShape());
        batchNorm = device.batchNorm(g.outputShape());
        perChannel = new Tensor[8];
        for (int i = 0; i < perChannel.length; i++) {
            perChannel[i] = device.allocate(Shape.of(g.outChannels()));
            device.elementwise().fill(perChannel[i], 1f);
        }
        convolution.forward(x, weight, null, y);
        noBf16 = device.lowPrecisionSupport(DType.BF16);
        if (noBf16 == null) {
            bf16Convolution = device.convolution(g, DType.BF16);
            bf16Convolution.prepare(false);
            bf16X = device.allocate(g.inputShape(), DType.BF16, x.layout());
            bf16Dy = device.allocate(g.outputShape(), DType.BF16, dy.layout());
            device.elementwise().convert(x, bf16X);
            device.elementwise().convert(dy, bf16Dy);
            bf16Convolution.forward(bf16X, weight, null, y);
        }
    }

    private ConvolutionPlan bf16() {
        if (bf16Convolution == null) {
            throw new UnsupportedOperationException("LayerKernelsBenchmark: no BF16 convolution on this CPU: " + noBf16);
        }
        return bf16Convolution;
    }

    private static Tensor filled(Tensor tensor, SplittableRandom random) {
        float[] values = new float[(int) tensor.elementCount()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return tensor.copyFrom(values);
    }

    @Benchmark
    public void convolutionForward() {
        convolution.forward(x, weight, null, y);
    }

    @Benchmark
    public void convolutionBackwardData() {
        convolution.backwardData(dy, weight, dx);
    }

    @Benchmark
    public void convolutionBackwardFilter() {
        convolution.backwardFilter(x, dy, weightGrad, null);
    }

    @Benchmark
    public void convolutionForwardBf16() {
        bf16().forward(bf16X, weight, null, y);
    }

    @Benchmark
    public void convolutionBackwardDataBf16() {
        bf16().backwardData(bf16Dy, weight, dx);
    }

    @Benchmark
    public void convolutionBackwardFilterBf16() {
        bf16().backwardFilter(bf16X, bf16Dy, weightGrad, null);
    }

    @Benchmark
    public void maxPoolForward() {
        pooling.forward(y, pooled);
    }

    @Benchmark
    public void batchNormTrainingForward() {
        batchNorm.forwardTraining(y, perChannel[0], perChannel[1], perChannel[2], perChannel[3], 0.1f, 1e-5f, dy,
                perChannel[4], perChannel[5]);
    }

    @Benchmark
    public void reluForward() {
        device.activations().forward(Activation.RELU, 0f, y, dy);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        convolution.close();
        pooling.close();
        batchNorm.close();
        if (bf16Convolution != null) {
            bf16Convolution.close();
            bf16X.close();
            bf16Dy.close();
        }
        for (Tensor t : new Tensor[] {x, weight, weightGrad, y, dy, dx, pooled}) {
            t.close();
        }
        for (Tensor t : perChannel) {
            t.close();
        }
        device.close();
    }
}
