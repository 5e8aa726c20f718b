package dev.isthmus.nn;

import dev.isthmus.device.AvailableMemory;
import dev.isthmus.device.HostMemory;

/**
 * A model that would need more memory than its device has left: thrown by {@link Model#build}
 * before allocating, instead of letting the kernel's OOM killer end the process without a word.
 */
public final class InsufficientMemoryException extends IllegalStateException {
    private final transient MemoryEstimate estimate;
    private final transient AvailableMemory available;

    /**
     * The refusal of {@code model} on {@code device}.
     *
     * @param model the model's name
     * @param device the device's name
     * @param estimate what the model needs
     * @param available what the device has left
     */
    public InsufficientMemoryException(String model, String device, MemoryEstimate estimate, AvailableMemory available) {
        super(model + " needs " + estimate.describe() + " on " + device + ", which has " + HostMemory.format(available.bytes())
                + " available (" + available.source() + "); use a smaller --batch (memory grows with it: "
                + HostMemory.format(estimate.activations() + estimate.inputGradients()) + " of it is per batch)");
        this.estimate = estimate;
        this.available = available;
    }

    /** {@return what the model needs} */
    public MemoryEstimate estimate() {
        return estimate;
    }

    /** {@return what the device had left} */
    public AvailableMemory available() {
        return available;
    }
}
