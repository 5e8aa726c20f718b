package dev.isthmus.device.cpu;

/**
 * The error function, which java.lang.Math lacks; GELU needs it. Numerical Recipes' Chebyshev
 * fit of erfc (erfcc, 2nd edition §6.2), whose fractional error is below 1.2e-7 everywhere: enough
 * for GELU in float32, where erf enters as 0.5·x·(1 + erf(x/√2)).
 */
final class Erf {
    private Erf() {
    }

    static double erf(double x) {
        return 1 - erfc(x);
    }

    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double polynomial = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))));
        double result = t * Math.exp(polynomial);
        return x >= 0 ? result : 2 - result;
    }
}
