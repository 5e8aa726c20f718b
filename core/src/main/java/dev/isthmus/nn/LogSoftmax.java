package dev.isthmus.nn;

/** log(softmax(x)) over axis 1, computed stably (x − max − log Σ exp(x − max)). */
public final class LogSoftmax extends Softmax {
    /** PyTorch's {@code LogSoftmax(dim=1)}. */
    public LogSoftmax() {
        super(true);
    }
}
