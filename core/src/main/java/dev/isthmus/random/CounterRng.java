package dev.isthmus.random;

/**
 * A counter-based random generator: the draw for element {@code index} of call {@code counter}
 * under {@code seed} is a pure function of the three, so the CPU and the GPU kernels (which
 * compute the same mix in PTX) give identical dropout masks, and resuming training replays them.
 * The mix is SplitMix64's finaliser.
 */
public final class CounterRng {
    private CounterRng() {
    }

    /**
     * {@return 64 random bits for element {@code index} of draw {@code counter} of stream {@code seed}}
     *
     * @param seed the stream
     * @param counter the draw
     * @param index the element
     */
    public static long mix(long seed, long counter, long index) {
        long z = seed + counter * 0x9E3779B97F4A7C15L + (index + 1) * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * A uniform float in [0, 1) with 24 random bits.
     *
     * @param seed the stream
     * @param counter the draw
     * @param index the element
     * @return a uniform float in [0, 1) with 24 random bits
     */
    public static float uniform(long seed, long counter, long index) {
        return (mix(seed, counter, index) >>> 40) * 0x1.0p-24f;
    }
}
