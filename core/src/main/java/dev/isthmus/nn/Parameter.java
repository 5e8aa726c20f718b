package dev.isthmus.nn;

import dev.isthmus.tensor.Tensor;

/**
 * A trainable tensor and its gradient, named as in PyTorch's {@code state_dict}
 * ({@code features.0.weight}, {@code layer1.0.bn1.bias}).
 *
 * @param name its name in PyTorch's state_dict
 * @param value the parameter's values
 * @param grad its gradient, of the same shape
 */
public record Parameter(String name, Tensor value, Tensor grad) {
    Parameter withPrefix(String prefix) {
        return prefix.isEmpty() ? this : new Parameter(prefix + "." + name, value, grad);
    }
}
