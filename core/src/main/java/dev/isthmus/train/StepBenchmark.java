package dev.isthmus.train;

import dev.isthmus.device.Device;
import dev.isthmus.loss.CrossEntropyLoss;
import dev.isthmus.nn.Model;
import dev.isthmus.optim.Sgd;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Steady-state images/s of one training step (zero grads, forward, cross-entropy, backward,
 * SGD-momentum update) or of inference (eval-mode forward), measured as
 * shared/peers/torch_bench.py measures PyTorch: four random batches in rotation, 20 warm-up steps,
 * a 0.3 s calibration, then {@code repeats} timed runs of about {@code seconds} each; the median
 * counts. It also records what a steady-state step allocates: device tensors (must be none) and
 * Java heap bytes on the calling thread.
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

    private StepBenchmark() {
    }

    public static Result measure(Model model, Mode mode, int batch, double seconds, int repeats, long seed) {
        Device device = model.device();
        if (device == null) {
            throw new IllegalStateException("build " + model.name() + " before benchmarking it");
        }
        SplittableRandom random = new SplittableRandom(seed);
        Tensor[] inputs = new Tensor[4];
        Tensor[] labels = new Tensor[4];
        try (CrossEntropyLoss loss = new CrossEntropyLoss();
             Sgd optimizer = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false)) {
            Shape shape = model.batchShape(batch);
            for (int i = 0; i < 4; i++) {
                float[] values = new float[(int) shape.elementCount()];
                int[] classes = new int[batch];
                for (int j = 0; j < values.length; j++) {
                    values[j] = (float) random.nextGaussian();
                }
                for (int j = 0; j < batch; j++) {
                    classes[j] = random.nextInt(10);
                }
                inputs[i] = device.allocateActivation(shape).copyFrom(values);
                labels[i] = device.allocate(Shape.of(batch), DType.I32).copyFrom(classes);
            }
            Runnable step = mode == Mode.TRAIN ? new Runnable() {
                private int i;

                @Override
                public void run() {
                    int k = i++ & 3;
                    optimizer.zeroGrad();
                    Tensor logits = model.forward(inputs[k], true);
                    loss.forward(logits, labels[k], true);
                    model.backward(loss.backward());
                    optimizer.step();
                }
            } : new Runnable() {
                private int i;

                @Override
                public void run() {
                    model.forward(inputs[i++ & 3], false);
                }
            };
            for (int i = 0; i < 20; i++) {
                step.run();
            }
            device.synchronize();
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
            long heapBefore = threads.getCurrentThreadAllocatedBytes();
            long allocationsBefore = device.allocationCount();
            long stepsRun = 0;
            for (int r = 0; r < repeats; r++) {
                device.synchronize();
                long t = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    step.run();
                }
                device.synchronize();
                rates[r] = (double) steps * batch / ((System.nanoTime() - t) / 1e9);
                stepsRun += steps;
            }
            long heapPerStep = (threads.getCurrentThreadAllocatedBytes() - heapBefore) / Math.max(1, stepsRun);
            long allocations = device.allocationCount() - allocationsBefore;
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            return new Result(model.name(), mode == Mode.TRAIN ? "train" : "infer", batch, sorted[sorted.length / 2],
                    rates, heapPerStep, allocations, model.parameterCount());
        } finally {
            for (int i = 0; i < 4; i++) {
                if (inputs[i] != null) {
                    inputs[i].close();
                }
                if (labels[i] != null) {
                    labels[i].close();
                }
            }
        }
    }
}
