package dev.isthmus.device;

/** Element-wise activation functions, with PyTorch's definitions. */
public enum Activation {
    /** max(0, x). */
    RELU,
    /** x for x > 0, alpha·x otherwise. */
    LEAKY_RELU,
    /** x for x > 0, alpha·(exp(x) − 1) otherwise. */
    ELU,
    /** 1 / (1 + exp(−x)). */
    SIGMOID,
    /** tanh(x). */
    TANH,
    /** x·Φ(x) with the exact normal CDF (PyTorch's approximate='none'). */
    GELU,
    /**
     * 1 for x &gt; 0, else 0 (0 at 0 and for NaN): torch.heaviside(x, 0). Forward only: its
     * derivative is 0 almost everywhere, so the family refuses its backward.
     */
    BINARY_STEP
}
