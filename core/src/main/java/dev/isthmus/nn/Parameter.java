package dev.isthmus.nn;

import dev.isthmus.tensor.Tensor;

/**
 * A trainable tensor and its gradient, named as in PyTorch's {@code state_dict}
 * ({@code features.0.weight}, {@code layer1.0.bn1.bias}).
 */
public record Parameter(String name, Tensor value, Tensor grad) {
    Parameter withPrefix(String prefix) {
        return prefix.isEmpty() ? this : new Parameter(prefix + "." + name, value, grad);
    }
}
