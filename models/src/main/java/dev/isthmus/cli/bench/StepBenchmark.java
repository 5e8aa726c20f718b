package dev.isthmus.cli.bench;

import dev.isthmus.device.Device;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Conv2d;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Profile;
import dev.isthmus.nn.Residual;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.Shape;
import dev.isthmus.train.DeviceBatch;
import dev.isthmus.train.TrainStep;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Steady-state images/s of one training step (the trainer's {@link TrainStep}: zero grads,
 * forward, cross-entropy, backward, SGD-momentum update) or of inference (its eval-mode forward),
 * measured as
 * shared/peers/torch_bench.py measures PyTorch: four random batches in rotation, warm-up, a 0.3 s
 * calibration, then {@code repeats} timed runs of about {@code seconds} each; the median counts.
 * The warm-up is 20 steps as in the peer script, then goes on (up to 15 s) until the rate of two
 * successive half-second windows agrees within 5% and the JIT is idle, because the JVM compiles the
 * hot code during the first seconds on the same cores the measurement uses: steady state is what is
 * compared. It also records what a steady-state step allocates: device tensors (must be none) and
 * Java heap bytes on the calling thread. It lives beside {@code isthmus bench}, its only caller, not
 * in the library: the JIT and thread-allocation monitors it reads are the JDK's management API.
 */
public final class StepBenchmark {
    /** The measured figures of one model and mode. */
    public record Result(String model, String mode, int batch, double imagesPerSecond, double[] samples,
                         long heapBytesPerStep, long deviceAllocationsPerRun, long parameters) {
        public double min() {
            return Arrays.stream(samples).min().orElse(Double.NaN);
        }

        public double max() {
            return Arrays.stream(samples).max().orElse(Double.NaN);
        }
    }

    public enum Mode { TRAIN, INFER }

    private static final long WINDOW_NANOS = 500_000_000L;
    private static final long MAX_WARMUP_NANOS = 15_000_000_000L;

    /**
     * Runs steps in half-second windows until two successive windows' rates agree within 5% and the
     * JIT compiled nothing during the second. Rates alone are not enough: while C2 compiles on the
     * same two cores, two equally slow windows agree too (seen in CI: ResNet-20 at 40% of its
     * speed, with C1 code still allocating kilobytes per step).
     */
    private static void warmUp(Runnable step, Device device) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitVisible = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        double previous = 0;
        while (System.nanoTime() - start < MAX_WARMUP_NANOS) {
            device.synchronize();
            long compiledBefore = jitVisible ? jit.getTotalCompilationTime() : 0;
            long windowStart = System.nanoTime();
            int steps = 0;
            while (System.nanoTime() - windowStart < WINDOW_NANOS) {
                step.run();
                steps++;
            }
            device.synchronize();
            double rate = steps / ((System.nanoTime() - windowStart) / 1e9);
            boolean jitQuiet = !jitVisible || jit.getTotalCompilationTime() == compiledBefore;
            if (previous > 0 && jitQuiet && Math.abs(rate - previous) <= 0.05 * previous) {
                return;
            }
            previous = rate;
        }
    }

    /** One row of a per-layer breakdown: milliseconds per step of each part, and the layer's own GFLOP/s where it has a count. */
    public record LayerTime(String name, String layer, double forwardMs, double backwardDataMs, double backwardFilterMs,
                            double otherBackwardMs, double gflopsForward, double gflopsBackwardData,
                            double gflopsBackwardFilter, long multiplyAdds) {
    }

    /** A training step taken apart: per layer, then the loss, the optimizer and the batch copy. */
    public record Breakdown(List<LayerTime> layers, double lossMs, double optimizerMs, double copyMs, double stepMs) {
    }

    /**
     * Times {@code steps} training steps layer by layer (the device synchronised around every
     * part). Convolutions report GFLOP/s of their forward, backward-data and backward-filter.
     */
    public static Breakdown profile(Model model, int batch, int steps, long seed) {
        Device device = model.device();
        Profile profile = new Profile(device);
        try (CrossEntropyLoss loss = new CrossEntropyLoss();
             Sgd optimizer = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false);
             TrainStep step = new TrainStep(model, loss, optimizer, 0);
             // Shared, not confined: the CPU device converts a multi-channel batch to channels-last on its worker threads.
             DeviceBatch input = allocateBatch(model, batch); Arena arena = Arena.ofShared()) {
            float[] values = randomBatch(input, new SplittableRandom(seed), model.root().outputShape().dim(1));
            MemorySegment host = arena.allocate((long) values.length * Float.BYTES);
            MemorySegment.copy(values, 0, host, ValueLayout.JAVA_FLOAT, 0, values.length);
            // Warm up unprofiled first: the JIT's first seconds would otherwise dominate small models.
            long warmupEnd = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < warmupEnd) {
                step.train(input);
            }
            long[] finished = new long[TrainStep.Phase.values().length];
            TrainStep.PhaseObserver timer = phase -> {
                device.synchronize();
                finished[phase.ordinal()] = System.nanoTime();
            };
            long lossNanos = 0;
            long optimizerNanos = 0;
            long copyNanos = 0;
            long stepNanos = 0;
            for (int i = -5; i < steps; i++) {
                if (i == 0) {
                    model.addHook(profile);
                    profile.reset();
                }
                device.synchronize();
                long t0 = System.nanoTime();
                device.copyFromHost(host, input.input());
                device.synchronize();
                long t1 = System.nanoTime();
                step.train(input, null, timer);
                if (i >= 0) {
                    copyNanos += t1 - t0;
                    lossNanos += finished[TrainStep.Phase.LOSS.ordinal()] - finished[TrainStep.Phase.FORWARD.ordinal()];
                    optimizerNanos += finished[TrainStep.Phase.UPDATE.ordinal()] - finished[TrainStep.Phase.BACKWARD.ordinal()];
                    stepNanos += finished[TrainStep.Phase.UPDATE.ordinal()] - t0;
                }
            }
            model.removeHook(profile);
            List<LayerTime> rows = new ArrayList<>();
            collect("", model.root(), profile, steps, rows);
            return new Breakdown(rows, lossNanos / 1e6 / steps, optimizerNanos / 1e6 / steps, copyNanos / 1e6 / steps,
                    stepNanos / 1e6 / steps);
        }
    }

    /**
     * A device batch whose labels fit the model's output: a class per sample for logits [N, C], a
     * class per pixel [N, H, W] for a segmentation's [N, C, H, W].
     */
    private static DeviceBatch allocateBatch(Model model, int batch) {
        Shape output = model.root().outputShape();
        return DeviceBatch.allocate(model, batch, Shape.of(Arrays.copyOfRange(output.dims(), 2, output.rank())));
    }

    /**
     * Fills a device batch with Gaussian pixels, then labels (one per sample, or per pixel) in
     * [0, min(10, C)), drawn from {@code random}; returns the pixels.
     */
    private static float[] randomBatch(DeviceBatch batch, SplittableRandom random, int outputClasses) {
        float[] values = new float[(int) batch.input().elementCount()];
        int[] classes = new int[(int) batch.labels().elementCount()];
        for (int j = 0; j < values.length; j++) {
            values[j] = (float) random.nextGaussian();
        }
        for (int j = 0; j < classes.length; j++) {
            classes[j] = random.nextInt(Math.min(10, outputClasses));
        }
        batch.input().copyFrom(values);
        batch.labels().copyFrom(classes);
        return values;
    }

    private static void collect(String prefix, Layer layer, Profile profile, int steps, List<LayerTime> rows) {
        Map<String, Layer> children = layer.children();
        double forward = profile.nanos(layer, Profile.Part.FORWARD) / 1e6 / steps;
        double backward = profile.nanos(layer, Profile.Part.BACKWARD) / 1e6 / steps;
        if (!children.isEmpty()) {
            for (Map.Entry<String, Layer> child : children.entrySet()) {
                collect(prefix.isEmpty() ? child.getKey() : prefix + "." + child.getKey(), child.getValue(), profile, steps, rows);
                forward -= profile.nanos(child.getValue(), Profile.Part.FORWARD) / 1e6 / steps;
                backward -= profile.nanos(child.getValue(), Profile.Part.BACKWARD) / 1e6 / steps;
            }
            // A container's own work (a residual addition and ReLU) shows when it is measurable.
            if (forward + backward > 0.01 && layer instanceof Residual) {
                rows.add(new LayerTime(prefix + " (add+relu)", layer.describe(), forward, 0, 0, backward, 0, 0, 0, 0));
            }
            return;
        }
        double data = profile.nanos(layer, Profile.Part.BACKWARD_DATA) / 1e6 / steps;
        double filter = profile.nanos(layer, Profile.Part.BACKWARD_FILTER) / 1e6 / steps;
        double other = Math.max(0, backward - data - filter);
        long macs = layer instanceof Conv2d conv ? conv.geometry().multiplyAdds() : 0;
        rows.add(new LayerTime(prefix, layer.describe(), forward, data, filter, macs > 0 ? 0 : other,
                gflops(macs, forward), gflops(macs, data), gflops(macs, filter), macs));
    }

    private static double gflops(long multiplyAdds, double milliseconds) {
        return multiplyAdds == 0 || milliseconds <= 0 ? 0 : 2.0 * multiplyAdds / (milliseconds * 1e-3) / 1e9;
    }

    private StepBenchmark() {
    }

    public static Result measure(Model model, Mode mode, int batch, double seconds, int repeats, long seed) {
        Device device = model.device();
        if (device == null) {
            throw new IllegalStateException("build " + model.name() + " before benchmarking it");
        }
        SplittableRandom random = new SplittableRandom(seed);
        DeviceBatch[] batches = new DeviceBatch[4];
        try (CrossEntropyLoss loss = new CrossEntropyLoss();
             // Inference needs no optimizer (whose momentum would be memory PyTorch's no_grad does not hold).
             Sgd optimizer = mode == Mode.TRAIN ? new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false) : null;
             TrainStep trainStep = new TrainStep(model, loss, optimizer, 0)) {
            for (int i = 0; i < batches.length; i++) {
                batches[i] = allocateBatch(model, batch);
                randomBatch(batches[i], random, model.root().outputShape().dim(1));
            }
            Runnable step = mode == Mode.TRAIN ? new Runnable() {
                private int i;

                @Override
                public void run() {
                    trainStep.train(batches[i++ & 3]);
                }
            } : new Runnable() {
                private int i;

                @Override
                public void run() {
                    trainStep.infer(batches[i++ & 3]);
                }
            };
            for (int i = 0; i < 20; i++) {
                step.run();
            }
            warmUp(step, device);
            long start = System.nanoTime();
            int calibration = 0;
            while (System.nanoTime() - start < 300_000_000L) {
                step.run();
                calibration++;
            }
            device.synchronize();
            double perStep = (System.nanoTime() - start) / 1e9 / calibration;
            int steps = Math.max(3, (int) (seconds / perStep));
            double[] rates = new double[repeats];
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            // Heap per step, like the rate, is the median over the repeats: a one-off (the JIT
            // deoptimising a method into the interpreter for a few steps) is not the steady state.
            long[] heapPerStep = new long[repeats];
            long allocationsBefore = device.allocationCount();
            for (int r = 0; r < repeats; r++) {
                device.synchronize();
                long heapBefore = threads.getCurrentThreadAllocatedBytes();
                long t = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    step.run();
                }
                device.synchronize();
                rates[r] = (double) steps * batch / ((System.nanoTime() - t) / 1e9);
                heapPerStep[r] = (threads.getCurrentThreadAllocatedBytes() - heapBefore) / steps;
            }
            Arrays.sort(heapPerStep);
            long allocations = device.allocationCount() - allocationsBefore;
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            return new Result(model.name(), mode == Mode.TRAIN ? "train" : "infer", batch, sorted[sorted.length / 2],
                    rates, heapPerStep[repeats / 2], allocations, model.parameterCount());
        } finally {
            for (DeviceBatch made : batches) {
                if (made != null) {
                    made.close();
                }
            }
        }
    }
}
