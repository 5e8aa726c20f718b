package dev.isthmus.testing;

import dev.isthmus.device.Device;
import dev.isthmus.nn.Layer;
import dev.isthmus.nn.Parameter;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Caffe's GradientChecker for Isthmus layers: compares each layer's analytic gradients with
 * central finite differences of the objective L = Σ y·r (r a fixed random projection), computed
 * in double precision from the float32 forward passes.
 *
 * <p>An element passes when |analytic − numeric| ≤ threshold · max(|analytic|, |numeric|, 1).
 * With step 1e-2 and threshold 1e-2, float32 rounding stays well inside the bound while an
 * off-by-one index or a missing term exceeds it (see GradientCheckerTest, which proves the checker
 * fails on broken layers).
 */
public final class GradientChecker {
    private final double step;
    private final double threshold;
    private final int maxProbesPerTensor;
    private Runnable beforeForward = () -> { };
    private boolean training = true;

    public GradientChecker() {
        this(1e-2, 1e-2, 250);
    }

    public GradientChecker(double step, double threshold, int maxProbesPerTensor) {
        this.step = step;
        this.threshold = threshold;
        this.maxProbesPerTensor = maxProbesPerTensor;
    }

    /** Runs before every forward pass (e.g. to rewind a dropout layer's generator). */
    public GradientChecker beforeEachForward(Runnable hook) {
        this.beforeForward = hook;
        return this;
    }

    /** Checks the eval-mode function (forward with training = false) and its backward instead. */
    public GradientChecker inEvalMode() {
        this.training = false;
        return this;
    }

    /** The result of one check: every mismatch found, empty when the gradients agree. */
    public record Report(List<String> mismatches, int probes) {
        public boolean passed() {
            return mismatches.isEmpty();
        }

        @Override
        public String toString() {
            return probes + " probes, " + mismatches.size() + " mismatches"
                    + (mismatches.isEmpty() ? "" : ":\n  " + String.join("\n  ", mismatches.subList(0, Math.min(12, mismatches.size()))));
        }
    }

    /**
     * Checks dL/dx and dL/dθ of {@code layer} (already set up on {@code device} for {@code input}'s
     * shape and initialised) at {@code input}, in training mode unless {@link #inEvalMode()}.
     */
    public Report check(Layer layer, Tensor input, long seed) {
        Device device = layer.device();
        SplittableRandom random = new SplittableRandom(seed);
        Shape outputShape = layer.outputShape();
        float[] projection = new float[Math.toIntExact(outputShape.elementCount())];
        for (int i = 0; i < projection.length; i++) {
            projection[i] = (float) (random.nextDouble() * 2 - 1);
        }
        List<String> mismatches = new ArrayList<>();
        int probes = 0;
        try (Tensor projectionTensor = device.fromArray(outputShape, projection)) {
            for (Parameter parameter : layer.parameters()) {
                device.elementwise().fill(parameter.grad(), 0f);
            }
            beforeForward.run();
            layer.forward(input, training);
            Tensor gradInput = layer.backward(projectionTensor);
            float[] analyticInput = gradInput == null ? null : gradInput.toFloatArray();
            List<float[]> analyticParams = new ArrayList<>();
            for (Parameter parameter : layer.parameters()) {
                analyticParams.add(parameter.grad().toFloatArray());
            }
            if (analyticInput != null) {
                probes += compare("input", input, analyticInput, layer, input, projection, random, mismatches);
            }
            List<Parameter> parameters = layer.parameters();
            for (int p = 0; p < parameters.size(); p++) {
                probes += compare(parameters.get(p).name(), parameters.get(p).value(), analyticParams.get(p), layer,
                        input, projection, random, mismatches);
            }
        }
        return new Report(mismatches, probes);
    }

    private int compare(String role, Tensor perturbed, float[] analytic, Layer layer, Tensor input, float[] projection,
                        SplittableRandom random, List<String> mismatches) {
        float[] values = perturbed.toFloatArray();
        int[] indices = probeIndices(values.length, random);
        for (int index : indices) {
            float original = values[index];
            values[index] = (float) (original + step);
            perturbed.copyFrom(values);
            double plus = objective(layer, input, projection);
            values[index] = (float) (original - step);
            perturbed.copyFrom(values);
            double minus = objective(layer, input, projection);
            values[index] = original;
            perturbed.copyFrom(values);
            // The float32 perturbation is what the layer saw; divide by it, not by the nominal step.
            double actualStep = ((double) (float) (original + step) - (double) (float) (original - step));
            double numeric = (plus - minus) / actualStep;
            double computed = analytic[index];
            double scale = Math.max(Math.max(Math.abs(computed), Math.abs(numeric)), 1.0);
            if (Math.abs(computed - numeric) > threshold * scale) {
                mismatches.add(String.format("%s[%d]: analytic %.6g, numeric %.6g", role, index, computed, numeric));
            }
        }
        return indices.length;
    }

    /** Checks d loss / d input of a loss at (input, target). */
    public Report checkLoss(dev.isthmus.loss.Loss loss, Tensor input, Tensor target, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        loss.forward(input, target, true);
        float[] analytic = loss.backward().toFloatArray();
        float[] values = input.toFloatArray();
        List<String> mismatches = new ArrayList<>();
        int[] indices = probeIndices(values.length, random);
        for (int index : indices) {
            float original = values[index];
            values[index] = (float) (original + step);
            input.copyFrom(values);
            double plus = loss.forward(input, target, false).item();
            values[index] = (float) (original - step);
            input.copyFrom(values);
            double minus = loss.forward(input, target, false).item();
            values[index] = original;
            input.copyFrom(values);
            double actualStep = ((double) (float) (original + step) - (double) (float) (original - step));
            double numeric = (plus - minus) / actualStep;
            double computed = analytic[index];
            // Loss values are means: compare on the scale of the gradient itself.
            double scale = Math.max(Math.max(Math.abs(computed), Math.abs(numeric)), 1.0 / values.length);
            if (Math.abs(computed - numeric) > threshold * scale + 1e-4) {
                mismatches.add(String.format("input[%d]: analytic %.6g, numeric %.6g", index, computed, numeric));
            }
        }
        return new Report(mismatches, indices.length);
    }

    private int[] probeIndices(int length, SplittableRandom random) {
        if (length <= maxProbesPerTensor) {
            int[] all = new int[length];
            for (int i = 0; i < length; i++) {
                all[i] = i;
            }
            return all;
        }
        return random.ints(maxProbesPerTensor, 0, length).toArray();
    }

    private double objective(Layer layer, Tensor input, float[] projection) {
        beforeForward.run();
        float[] output = layer.forward(input, training).toFloatArray();
        double sum = 0;
        for (int i = 0; i < output.length; i++) {
            sum += (double) output[i] * projection[i];
        }
        return sum;
    }
}
