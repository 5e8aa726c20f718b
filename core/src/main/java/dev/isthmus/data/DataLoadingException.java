package dev.isthmus.data;

/**
 * A batch could not be assembled; the cause is the original failure (a corrupt sample, a failing
 * dataset), whether it happened on the caller's thread or on the prefetch thread.
 */
public final class DataLoadingException extends RuntimeException {
    /** The epoch being loaded (from 1). */
    private final int epoch;
    /** The batch being loaded (from 1). */
    private final int batch;

    DataLoadingException(int epoch, int batch, Throwable cause) {
        super("batch " + batch + " of epoch " + epoch + " could not be assembled: " + cause, cause);
        this.epoch = epoch;
        this.batch = batch;
    }

    /** {@return the epoch being loaded (from 1)} */
    public int epoch() {
        return epoch;
    }

    /** {@return the batch being loaded (from 1)} */
    public int batch() {
        return batch;
    }
}
