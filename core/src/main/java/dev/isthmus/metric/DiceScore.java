package dev.isthmus.metric;

import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Tensor;

import java.util.Arrays;

/**
 * The Dice coefficient of a segmentation, accumulated over batches. For each foreground class c
 * (every class but {@code background}), with A the pixels predicted c (the arg-max of the logits,
 * the first maximum on ties) and B the pixels labelled c, over every image seen:
 * <pre>
 *   dice_c = 2·|A ∩ B| / (|A| + |B|)
 *   mean   = the mean of dice_c over the foreground classes with |A| + |B| > 0
 * </pre>
 * A class that is neither predicted nor present is left out of the mean (its Dice is 0/0), so a
 * data set without that class does not score it. Pixels labelled {@code ignoreIndex} count for
 * nothing. Counts are summed over all images before dividing (not a mean of per-image scores).
 *
 * <p>The logits are read to the host: this is an evaluation metric, not part of a training step.
 */
public final class DiceScore {
    private final int classes;
    private final int background;
    private final int ignoreIndex;
    private final long[] intersection;
    private final long[] predicted;
    private final long[] actual;

    /**
     * Classes 1..classes-1 are foreground, class 0 the background; no ignored label.
     *
     * @param classes the number of classes
     */
    public DiceScore(int classes) {
        this(classes, 0, Integer.MIN_VALUE);
    }

    /**
     * A score over {@code classes} classes that leaves {@code background} out of the mean and skips
     * pixels labelled {@code ignoreIndex}.
     *
     * @param background  the class left out of the mean, or -1 to score every class
     * @param ignoreIndex a label value that marks pixels to skip
     * @param classes the number of classes
     */
    public DiceScore(int classes, int background, int ignoreIndex) {
        if (classes < 2) {
            throw new IllegalArgumentException("DiceScore: needs at least 2 classes, got " + classes);
        }
        if (background < -1 || background >= classes) {
            throw new IllegalArgumentException("DiceScore: background " + background + " is not a class of " + classes + " or -1");
        }
        this.classes = classes;
        this.background = background;
        this.ignoreIndex = ignoreIndex;
        this.intersection = new long[classes];
        this.predicted = new long[classes];
        this.actual = new long[classes];
    }

    /**
     * Adds a batch: logits [N, C, H, W] (any float tensor), labels [N, H, W] (I32).
     *
     * @param logits the logits
     * @param labels the class indices
     */
    public void update(Tensor logits, Tensor labels) {
        if (logits == null || labels == null) {
            throw new IllegalArgumentException("DiceScore: logits and labels must not be null");
        }
        int[] dims = logits.shape().dims();
        if (dims.length < 3 || dims[1] != classes) {
            throw new IllegalArgumentException("DiceScore: logits " + logits.shape() + " must be [N, " + classes + ", H, W]");
        }
        if (labels.dtype() != DType.I32 || labels.elementCount() * classes != logits.elementCount()
                || labels.shape().dim(0) != dims[0]) {
            throw new IllegalArgumentException("DiceScore: labels " + labels.shape() + " " + labels.dtype()
                    + " must be I32 [N, H, W] for logits " + logits.shape());
        }
        update(argmax(logits.toFloatArray(), dims[0], classes), labels.toIntArray());
    }

    /**
     * Adds predicted and true class maps of equal length (any number of images, flattened).
     *
     * @param predictedClasses the predicted classes
     * @param trueClasses the true classes
     */
    public void update(int[] predictedClasses, int[] trueClasses) {
        if (predictedClasses.length != trueClasses.length) {
            throw new IllegalArgumentException("DiceScore: " + predictedClasses.length + " predictions for "
                    + trueClasses.length + " labels");
        }
        for (int i = 0; i < trueClasses.length; i++) {
            int truth = trueClasses[i];
            if (truth == ignoreIndex) {
                continue;
            }
            int guess = predictedClasses[i];
            if (truth < 0 || truth >= classes || guess < 0 || guess >= classes) {
                throw new IllegalArgumentException("DiceScore: class " + (truth < 0 || truth >= classes ? truth : guess)
                        + " at pixel " + i + " is outside [0, " + classes + ")");
            }
            predicted[guess]++;
            actual[truth]++;
            if (guess == truth) {
                intersection[truth]++;
            }
        }
    }

    /**
     * Adds per-class counts made elsewhere (a device's
     * {@link dev.isthmus.device.ReductionKernels#countSegmentation}): for each class, the pixels
     * predicted and labelled it, those predicted it, those labelled it.
     *
     * @param intersections per class, the pixels predicted and labelled it
     * @param predictions per class, the pixels predicted it
     * @param labelled per class, the pixels labelled it
     */
    public void add(long[] intersections, long[] predictions, long[] labelled) {
        if (intersections.length != classes || predictions.length != classes || labelled.length != classes) {
            throw new IllegalArgumentException("DiceScore: counts of " + intersections.length + ", " + predictions.length
                    + " and " + labelled.length + " classes for a score of " + classes);
        }
        for (int c = 0; c < classes; c++) {
            intersection[c] += intersections[c];
            predicted[c] += predictions[c];
            actual[c] += labelled[c];
        }
    }

    /**
     * The arg-max over axis 1 of row-major [N, C, positions] logits, as torch.argmax: NaN above
     * every number (the first NaN wins), the first maximum on ties; the device's segmentation
     * counts use the same rule.
     *
     * @param logits  row-major [N, C, positions] scores
     * @param batch   N
     * @param classes C
     * @return the winning class of each of the N × positions pixels, row-major
     */
    public static int[] argmax(float[] logits, int batch, int classes) {
        int positions = logits.length / (batch * classes);
        int[] result = new int[batch * positions];
        for (int n = 0; n < batch; n++) {
            for (int p = 0; p < positions; p++) {
                int base = n * classes * positions + p;
                int best = 0;
                float bestValue = logits[base];
                for (int c = 1; c < classes; c++) {
                    float value = logits[base + c * positions];
                    if (!Float.isNaN(bestValue) && (Float.isNaN(value) || value > bestValue)) {
                        best = c;
                        bestValue = value;
                    }
                }
                result[n * positions + p] = best;
            }
        }
        return result;
    }

    /**
     * Dice of class {@code c}, NaN when it was neither predicted nor present.
     *
     * @param c the c
     * @return the dice
     */
    public double dice(int c) {
        long total = predicted[c] + actual[c];
        return total == 0 ? Double.NaN : 2.0 * intersection[c] / total;
    }

    /**
     * Every class's Dice (the background's too), NaN where undefined.
     *
     * @return the per class
     */
    public double[] perClass() {
        double[] scores = new double[classes];
        Arrays.setAll(scores, this::dice);
        return scores;
    }

    /**
     * The mean Dice over the foreground classes that are defined; NaN if none is.
     *
     * @return the mean
     */
    public double mean() {
        double sum = 0;
        int defined = 0;
        for (int c = 0; c < classes; c++) {
            if (c != background && !Double.isNaN(dice(c))) {
                sum += dice(c);
                defined++;
            }
        }
        return defined == 0 ? Double.NaN : sum / defined;
    }

    /** Reset. */
    public void reset() {
        Arrays.fill(intersection, 0);
        Arrays.fill(predicted, 0);
        Arrays.fill(actual, 0);
    }
}
