package dev.isthmus.nn;

import dev.isthmus.tensor.DType;

import java.util.Locale;

/**
 * A model's precision policy, PyTorch's autocast: under BF16 or FP16, convolutions and linear
 * layers (forward and both backward passes) read their activations and weights in the low
 * precision and accumulate in F32; everything else (batch norm and its statistics, activations,
 * pooling, softmax and the losses, reductions, the optimizer step and its state) stays F32. The
 * parameters stay F32 (the master weights: what the optimizer updates and checkpoints hold), the
 * low-precision copy of each weight is made from them for every use, and gradients accumulate in
 * F32. FP16 needs dynamic loss scaling ({@code dev.isthmus.train.LossScaler}); BF16, whose range
 * is F32's, does not.
 */
public enum Precision {
    /** Everything in F32. */
    FP32(DType.F32),
    /** Convolutions and GEMMs on bfloat16 operands (CPUs with AVX-512 BF16 or AMX, GPUs from Ampere). */
    BF16(DType.BF16),
    /** Convolutions and GEMMs on IEEE half operands with dynamic loss scaling (GPUs). */
    FP16(DType.F16);

    private final DType operandType;

    Precision(DType operandType) {
        this.operandType = operandType;
    }

    /** {@return the type convolutions and GEMMs read their operands in} */
    public DType operandType() {
        return operandType;
    }

    /** {@return whether this is a low-precision policy (the layers that compute in it convert their operands)} */
    public boolean isMixed() {
        return this != FP32;
    }

    /** {@return whether gradients need dynamic loss scaling to stay inside the type's range (FP16 only)} */
    public boolean needsLossScaling() {
        return this == FP16;
    }

    /** {@return "fp32", "bf16" or "fp16", as the command line writes it} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses "fp32", "bf16" or "fp16" (any case).
     *
     * @param text the label
     * @return the policy it names
     * @throws IllegalArgumentException for anything else
     */
    public static Precision parse(String text) {
        if (text != null) {
            for (Precision precision : values()) {
                if (precision.label().equalsIgnoreCase(text.trim())) {
                    return precision;
                }
            }
        }
        throw new IllegalArgumentException("precision must be fp32, bf16 or fp16, got " + text);
    }
}
