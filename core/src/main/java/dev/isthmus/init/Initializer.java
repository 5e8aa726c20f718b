package dev.isthmus.init;

import dev.isthmus.tensor.Tensor;

import java.util.SplittableRandom;

/**
 * Fills a parameter with initial values, as {@code torch.nn.init} does. Fan-in and fan-out follow
 * PyTorch: for a weight [out, in, k...], fan_in = in·Πk and fan_out = out·Πk. The values are drawn
 * on the host from {@code random} (so a seed gives the same weights on every device) and copied.
 */
@FunctionalInterface
public interface Initializer {
    /**
     * Draws {@code count} values for a tensor with the given fans.
     *
     * @param count how many values
     * @param fanIn the fan-in
     * @param fanOut the fan-out
     * @param random the generator drawn from
     * @return the values
     */
    float[] values(int count, int fanIn, int fanOut, SplittableRandom random);

    /**
     * Fills {@code tensor}, drawing from {@code random}, with no fan information.
     *
     * @param tensor the tensor
     * @param random the generator drawn from
     */
    default void fill(Tensor tensor, SplittableRandom random) {
        int[] fans = fans(tensor);
        tensor.copyFrom(values(Math.toIntExact(tensor.elementCount()), fans[0], fans[1], random));
    }

    /**
     * {fan_in, fan_out} of a tensor shape, as torch.nn.init._calculate_fan_in_and_fan_out.
     *
     * @param tensor the tensor
     * @return {fan_in, fan_out}
     */
    static int[] fans(Tensor tensor) {
        int[] dims = tensor.shape().dims();
        if (dims.length < 2) {
            int n = dims.length == 0 ? 1 : dims[0];
            return new int[] {n, n};
        }
        int receptive = 1;
        for (int i = 2; i < dims.length; i++) {
            receptive *= dims[i];
        }
        return new int[] {dims[1] * receptive, dims[0] * receptive};
    }
}
