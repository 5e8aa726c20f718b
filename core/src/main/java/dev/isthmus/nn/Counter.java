package dev.isthmus.nn;

import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * A whole number a layer keeps as state and a checkpoint saves: batch norm's
 * {@code num_batches_tracked}, dropout's generator seed and position. The layer reads and writes
 * its own field; a counter names it and reaches it.
 *
 * @param inStateDict whether PyTorch's state_dict has it (an I64 tensor in a checkpoint), rather
 * @param name its name in PyTorch's state_dict
 * @param reader reads the value
 * @param writer sets the value (from a checkpoint)
 *                    than it being Isthmus's own (checkpoint metadata)
 */
public record Counter(String name, boolean inStateDict, LongSupplier reader, LongConsumer writer) {
    /** {@return the current value} */
    public long value() {
        return reader.getAsLong();
    }

    /**
     * Sets the layer's state (from a checkpoint).
     *
     * @param value the value
     */
    public void restore(long value) {
        writer.accept(value);
    }

    Counter withPrefix(String prefix) {
        return prefix.isEmpty() ? this : new Counter(prefix + "." + name, inStateDict, reader, writer);
    }
}
