package dev.isthmus.bench;

import dev.isthmus.bindings.cblas.cblas_h;
import dev.isthmus.device.cpu.OpenBlas;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one FFM downcall into OpenBLAS: a call that does no work
 * ({@code openblas_get_num_threads}) and a one-element dot product through the generated bindings.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FfmCallBenchmark {
    private MemorySegment x;
    private MemorySegment y;

    @Setup
    public void setUp() {
        OpenBlas.require();
        x = Arena.ofAuto().allocate(64, 64);
        y = Arena.ofAuto().allocate(64, 64);
    }

    @Benchmark
    public int trivialDowncall() {
        return cblas_h.openblas_get_num_threads();
    }

    @Benchmark
    public float sdotOfOneElement() {
        return cblas_h.cblas_sdot(1, x, 1, y, 1);
    }
}
