package dev.isthmus.nn;

import dev.isthmus.tensor.Tensor;

/**
 * A named non-trainable tensor a layer keeps, such as batch norm's {@code running_mean}.
 *
 * @param name its name in PyTorch's state_dict
 * @param tensor the tensor
 */
public record NamedTensor(String name, Tensor tensor) {
    NamedTensor withPrefix(String prefix) {
        return prefix.isEmpty() ? this : new NamedTensor(prefix + "." + name, tensor);
    }
}
