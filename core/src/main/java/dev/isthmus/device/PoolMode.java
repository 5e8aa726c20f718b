package dev.isthmus.device;

public enum PoolMode {
    MAX,
    /** Average where padding counts as zeros in the divisor (PyTorch's count_include_pad=True). */
    AVERAGE_INCLUDE_PADDING,
    /** Average over the real input elements of each window only. */
    AVERAGE_EXCLUDE_PADDING
}
