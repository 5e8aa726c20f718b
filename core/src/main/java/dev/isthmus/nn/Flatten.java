package dev.isthmus.nn;

import dev.isthmus.device.Device;
import dev.isthmus.tensor.Layout;
import dev.isthmus.tensor.Shape;
import dev.isthmus.tensor.Tensor;

/**
 * [N, d1, d2, ...] to [N, d1·d2·...] in PyTorch's (row-major) order. A row-major input is viewed,
 * not copied; a channels-last input (a CPU device's image activations) is copied into row-major
 * order, and the gradient copied back into the input's layout, so the layers on either side each
 * see the layout they work in.
 */
public final class Flatten extends Layer {
    /** PyTorch's {@code Flatten()}: every dimension after the first into one. */
    public Flatten() {
    }

    private Tensor lastInput;
    private Tensor flatView;
    private Tensor lastGradOutput;
    private Tensor gradView;
    private Tensor flatCopy;
    private Layout inputLayout;

    @Override
    public String describe() {
        return "Flatten()";
    }

    @Override
    protected Shape outputShapeFor(Shape input) {
        if (input.rank() < 1) {
            throw new IllegalArgumentException(describe() + ": expected input [N, ...], got " + input);
        }
        return Shape.of(input.dim(0), input.featuresPerSample());
    }

    @Override
    protected void allocateBuffers(Device device, Shape input, Shape output) {
        lastInput = null;
        lastGradOutput = null;
        if (device.activationLayout(input) != Layout.ROW_MAJOR) {
            flatCopy = allocateOutput(device, output);
        }
    }

    /** A row-major input is viewed, not copied: the output is the input's memory. */
    @Override
    protected boolean forwardReturnsInput() {
        return flatCopy == null;
    }

    @Override
    protected void releaseBuffers() {
        lastInput = null;
        lastGradOutput = null;
        closeAll(flatCopy);
        flatCopy = null;
    }

    @Override
    protected Tensor doForward(Tensor x, boolean training) {
        inputLayout = x.layout();
        if (inputLayout != Layout.ROW_MAJOR) {
            if (flatCopy == null) {
                flatCopy = device().allocateActivation(outputShape());
            }
            device().copy(x, flatCopy);
            return flatCopy;
        }
        // Upstream layers hand back the same buffer every step, so the view is made once.
        if (x != lastInput) {
            lastInput = x;
            flatView = x.reshape(outputShape());
        }
        return flatView;
    }

    /** A row-major input's gradient is a view of dy; a channels-last one is copied into a buffer. */
    @Override
    protected Tensor planGradients(GradientPlan plan, Tensor gradOutput) {
        if (device().activationLayout(inputShape()) != Layout.ROW_MAJOR) {
            return super.planGradients(plan, gradOutput);
        }
        return propagatesDown() ? gradOutput : null;
    }

    @Override
    protected Tensor doBackward(Tensor gradOutput) {
        if (!propagatesDown()) {
            return null;
        }
        if (inputLayout != Layout.ROW_MAJOR) {
            // The device's activation layout is the one a channels-last input came in.
            device().copy(gradOutput, gradInput());
            return gradInput();
        }
        if (gradOutput != lastGradOutput) {
            lastGradOutput = gradOutput;
            gradView = gradOutput.reshape(inputShape());
        }
        return gradView;
    }
}
