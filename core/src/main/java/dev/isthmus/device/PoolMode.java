package dev.isthmus.device;

/** How a pooling window reduces its elements. */
public enum PoolMode {
    /** The largest element. */
    MAX,
    /** Average where padding counts as zeros in the divisor (PyTorch's count_include_pad=True). */
    AVERAGE_INCLUDE_PADDING,
    /** Average over the real input elements of each window only. */
    AVERAGE_EXCLUDE_PADDING
}
