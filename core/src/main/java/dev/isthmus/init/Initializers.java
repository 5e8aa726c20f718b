package dev.isthmus.init;

import java.util.Arrays;
import java.util.Locale;

/**
 * The initializers of {@code torch.nn.init}: zeros, constant, uniform, normal, Xavier/Glorot
 * (uniform and normal) and He/Kaiming (uniform and normal, fan-in or fan-out), with the gains of
 * {@code calculate_gain}.
 */
public final class Initializers {
    private Initializers() {
    }

    /** Which fan Kaiming initialisation preserves the variance of. */
    public enum FanMode {
        /** Preserve the variance of the forward pass. */
        FAN_IN,
        /** Preserve the variance of the backward pass. */
        FAN_OUT
    }

    /** {@return every element 0} */
    public static Initializer zeros() {
        return constant(0f);
    }

    /**
     * {@return every element {@code value}}
     *
     * @param value the value
     */
    public static Initializer constant(float value) {
        return (count, fanIn, fanOut, random) -> {
            float[] values = new float[count];
            Arrays.fill(values, value);
            return values;
        };
    }

    /**
     * {@return draws from U(low, high)}
     *
     * @param low the lower bound
     * @param high the upper bound
     */
    public static Initializer uniform(double low, double high) {
        if (!(low <= high)) {
            throw new IllegalArgumentException("uniform(" + low + ", " + high + "): low must be <= high");
        }
        return (count, fanIn, fanOut, random) -> {
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = (float) (low + (high - low) * random.nextDouble());
            }
            return values;
        };
    }

    /**
     * {@return draws from N(mean, std²)}
     *
     * @param mean the mean
     * @param std the standard deviation
     */
    public static Initializer normal(double mean, double std) {
        if (!(std >= 0)) {
            throw new IllegalArgumentException("normal(" + mean + ", " + std + "): std must be >= 0");
        }
        return (count, fanIn, fanOut, random) -> {
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = (float) (mean + std * random.nextGaussian());
            }
            return values;
        };
    }

    /**
     * U(−a, a) with a = gain·sqrt(6 / (fan_in + fan_out)).
     *
     * @param gain the scale factor (see {@link Initializers#gain})
     * @return the initializer
     */
    public static Initializer xavierUniform(double gain) {
        return (count, fanIn, fanOut, random) -> {
            double bound = gain * Math.sqrt(6.0 / (fanIn + fanOut));
            return uniform(-bound, bound).values(count, fanIn, fanOut, random);
        };
    }

    /**
     * N(0, std²) with std = gain·sqrt(2 / (fan_in + fan_out)).
     *
     * @param gain the scale factor (see {@link Initializers#gain})
     * @return the initializer
     */
    public static Initializer xavierNormal(double gain) {
        return (count, fanIn, fanOut, random) ->
                normal(0, gain * Math.sqrt(2.0 / (fanIn + fanOut))).values(count, fanIn, fanOut, random);
    }

    /**
     * U(−b, b) with b = gain·sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
     *
     * @param a             the negative slope for leaky_relu (PyTorch's Linear and Conv use sqrt(5))
     * @param nonlinearity  "relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu"
     * @param mode which fan to preserve
     * @return the initializer
     */
    public static Initializer kaimingUniform(double a, FanMode mode, String nonlinearity) {
        double gain = gain(nonlinearity, a);
        return (count, fanIn, fanOut, random) -> {
            double bound = gain * Math.sqrt(3.0 / fan(mode, fanIn, fanOut));
            return uniform(-bound, bound).values(count, fanIn, fanOut, random);
        };
    }

    /**
     * N(0, std²) with std = gain / sqrt(fan).
     *
     * @param a the negative slope of the leaky ReLU that follows (0 for ReLU)
     * @param mode which fan to preserve
     * @param nonlinearity the nonlinearity that follows: "relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu"
     * @return the initializer
     */
    public static Initializer kaimingNormal(double a, FanMode mode, String nonlinearity) {
        double gain = gain(nonlinearity, a);
        return (count, fanIn, fanOut, random) ->
                normal(0, gain / Math.sqrt(fan(mode, fanIn, fanOut))).values(count, fanIn, fanOut, random);
    }

    /**
     * torch.nn.init.calculate_gain.
     *
     * @param nonlinearity the nonlinearity that follows: "relu", "leaky_relu", "linear", "tanh", "sigmoid", "selu"
     * @param param the nonlinearity's parameter (leaky ReLU's slope), or 0
     * @return the gain
     */
    public static double gain(String nonlinearity, double param) {
        return switch (nonlinearity.toLowerCase(Locale.ROOT)) {
            case "linear", "conv1d", "conv2d", "conv3d", "sigmoid" -> 1.0;
            case "tanh" -> 5.0 / 3;
            case "relu" -> Math.sqrt(2.0);
            case "leaky_relu" -> Math.sqrt(2.0 / (1 + param * param));
            case "selu" -> 3.0 / 4;
            default -> throw new IllegalArgumentException("unknown nonlinearity '" + nonlinearity + "'");
        };
    }

    private static int fan(FanMode mode, int fanIn, int fanOut) {
        int fan = mode == FanMode.FAN_IN ? fanIn : fanOut;
        if (fan <= 0) {
            throw new IllegalArgumentException("Kaiming initialisation of a tensor with no elements in its fan");
        }
        return fan;
    }

    /**
     * PyTorch's default for Linear and Conv weights: kaiming_uniform(a = sqrt(5)), which works out
     * to U(−1/sqrt(fan_in), 1/sqrt(fan_in)).
     *
     * @return the initializer
     */
    public static Initializer torchDefaultWeight() {
        return kaimingUniform(Math.sqrt(5), FanMode.FAN_IN, "leaky_relu");
    }

    /**
     * PyTorch's default for Linear and Conv biases: U(−1/sqrt(fan_in), 1/sqrt(fan_in)) of the weight's fan_in.
     *
     * @param weightFanIn the fan-in of the layer's weight
     * @return the initializer
     */
    public static Initializer torchDefaultBias(int weightFanIn) {
        double bound = weightFanIn > 0 ? 1 / Math.sqrt(weightFanIn) : 0;
        return uniform(-bound, bound);
    }
}
