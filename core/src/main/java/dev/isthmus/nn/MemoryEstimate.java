package dev.isthmus.nn;

import dev.isthmus.device.HostMemory;

/**
 * The bytes a model needs on its device at one batch size, added up by {@link Model#build} from
 * its memory plan before anything is allocated. Optimizer state is an allowance of two copies of
 * the parameters (Adam's two moments, the most any built-in optimizer keeps; SGD with momentum
 * keeps one, plain SGD none), since the optimizer is made after the model. For a model built for
 * inference only, gradients, input gradients and optimizer state are zero and the activations are
 * the shared block, so {@link #total()} equals {@link #inference()}.
 *
 * @param batch the batch size
 * @param parameters the parameters
 * @param gradients their gradients
 * @param buffers running statistics and other long-lived state
 * @param activations per-batch memory: outputs, saved tensors, oneDNN/cuDNN workspaces
 * @param inputGradients the input-gradient buffers of backward (made at the first backward)
 * @param optimizerState the allowance for optimizer state
 * @param inferenceActivations the per-batch memory of the same model built for inference only
 *        ({@link Model#inferenceOnly()}): one block shared by lifetime
 */
public record MemoryEstimate(int batch, long parameters, long gradients, long buffers, long activations, long inputGradients,
                             long optimizerState, long inferenceActivations) {
    /** {@return the bytes in all} */
    public long total() {
        return parameters + gradients + buffers + activations + inputGradients + optimizerState;
    }

    /** {@return what the model built for inference only needs: parameters, buffers and the shared activations} */
    public long inference() {
        return parameters + buffers + inferenceActivations;
    }

    /** {@return one line: the total and its parts} */
    public String describe() {
        return String.format("%s at batch %d (parameters %s, gradients %s, optimizer state up to %s, buffers %s, "
                        + "activations and workspaces %s, input gradients %s)", HostMemory.format(total()), batch,
                HostMemory.format(parameters), HostMemory.format(gradients), HostMemory.format(optimizerState),
                HostMemory.format(buffers), HostMemory.format(activations), HostMemory.format(inputGradients));
    }
}
