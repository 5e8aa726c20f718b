package dev.isthmus.train;

import dev.isthmus.data.Batch;
import dev.isthmus.device.Device;
import dev.isthmus.nn.Model;
import dev.isthmus.tensor.DType;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * A batch on the device: the model's input [n, C, H, W] (in the device's activation layout) and
 * its class indices, I32 [n] (a class per sample) or [n, H, W] (a class per pixel). Made once per batch size and refilled every step from a host
 * {@link Batch}, so a steady-state step allocates nothing.
 *
 * @param input the model's input [n, C, H, W]
 * @param labels the class indices, I32 [n] or [n, H, W]
 */
public record DeviceBatch(Tensor input, Tensor labels) implements AutoCloseable {
    /** Checks that both tensors are present. */
    public DeviceBatch {
        if (input == null || labels == null) {
            throw new IllegalArgumentException("DeviceBatch: input and labels are required");
        }
        if (labels.dtype() != DType.I32 || labels.shape().rank() == 0 || input.shape().rank() == 0
                || labels.shape().dim(0) != input.shape().dim(0)) {
            throw new IllegalArgumentException("DeviceBatch: labels " + labels.shape() + " " + labels.dtype()
                    + " must be I32 [n] or [n, H, W] for input " + input.shape());
        }
        if (input.device() != labels.device()) {
            throw new IllegalArgumentException("DeviceBatch: input lives on " + input.device().name() + ", labels on "
                    + labels.device().name());
        }
    }

    /**
     * Zero-filled tensors for a batch of {@code size} samples of {@code model}, on its device.
     *
     * @param model the model whose input shape and device to use
     * @param size the samples
     * @return the batch's tensors
     */
    public static DeviceBatch allocate(Model model, int size) {
        return allocate(model, size, Shape.of());
    }

    /**
     * Zero-filled tensors for a batch of {@code size} samples of {@code model} whose labels are
     * {@code labelShape} each: [] for a class per sample, [H, W] for a class per pixel.
     *
     * @param model the model whose input shape and device to use
     * @param size the samples
     * @param labelShape one sample's labels
     * @return the batch's tensors
     */
    public static DeviceBatch allocate(Model model, int size, Shape labelShape) {
        if (labelShape == null || labelShape.rank() > 3) {
            throw new IllegalArgumentException("DeviceBatch: a sample's labels must be [] or [H, W], got " + labelShape);
        }
        int[] labelDims = new int[labelShape.rank() + 1];
        labelDims[0] = size;
        System.arraycopy(labelShape.dims(), 0, labelDims, 1, labelShape.rank());
        Device device = model.device();
        if (device == null) {
            throw new IllegalStateException("DeviceBatch: build " + model.name() + " on a device first");
        }
        Tensor input = device.allocateActivation(model.batchShape(size));
        try {
            return new DeviceBatch(input, device.allocate(Shape.of(labelDims), DType.I32));
        } catch (RuntimeException failed) {
            input.close();
            throw failed;
        }
    }

    /**
     * The number of samples n.
     *
     * @return the number of samples n
     */
    public int size() {
        return labels.shape().dim(0);
    }

    /** {@return whether the labels are a class per pixel, [n, H, W], rather than per sample} */
    public boolean perPixel() {
        return labels.shape().rank() > 1;
    }

    /**
     * Copies a host batch of as many samples and values in (images and labels).
     *
     * @param batch the host batch copied in
     * @return this batch
     */
    public DeviceBatch copyFrom(Batch batch) {
        if (batch.size() != size() || batch.shape().elementCount() != input.elementCount()
                || !batch.labelShape().equals(labels.shape())) {
            throw new IllegalArgumentException("DeviceBatch: host batch " + batch.shape() + " with labels " + batch.labelShape()
                    + " does not fit " + input.shape() + " with labels " + labels.shape());
        }
        input.device().copyFromHost(batch.images(), input);
        labels.device().copyFromHost(batch.labels(), labels);
        return this;
    }

    @Override
    public void close() {
        input.close();
        labels.close();
    }
}
