package dev.isthmus.bench;

import dev.isthmus.device.cpu.CpuDevice;
import dev.isthmus.models.Zoo;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Adam;
import dev.isthmus.optim.Optimizer;
import dev.isthmus.optim.Sgd;
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
 * One optimizer step over a built model's parameters, fused (one kernel call over the parameter and
 * gradient blocks) against one call per parameter tensor: ResNet-20 has 65 parameter tensors,
 * mostly small (batch norm's 16 to 64 channels), VGG-small 12, mostly large.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FusedOptimizerBenchmark {
    @Param({"resnet20", "vgg-small"})
    public String model;

    @Param({"sgd-momentum", "adam"})
    public String optimizer;

    @Param({"true", "false"})
    public boolean fused;

    private CpuDevice device;
    private Model network;
    private Optimizer step;

    @Setup(Level.Trial)
    public void setUp() {
        device = new CpuDevice();
        network = Zoo.entry(model).create().build(device, 1, 0);
        step = optimizer.equals("adam") ? Adam.adam(network.parameters(), 1e-3)
                : new Sgd(network.parameters(), 0.01, 0.9, 0, 5e-4, false);
        step.setFused(fused);
    }

    @Benchmark
    public void step() {
        step.step();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        step.close();
        network.close();
        device.close();
    }
}
