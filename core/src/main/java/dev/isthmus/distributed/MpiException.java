package dev.isthmus.distributed;

/** An MPI call returned an error; the message names the call and MPI's description of the error. */
public final class MpiException extends RuntimeException {
    /**
     * Makes one from its parts.
     *
     * @param message the message
     */
    public MpiException(String message) {
        super(message);
    }

    /**
     * One that wraps the failure it reports.
     *
     * @param message the message
     * @param cause the failure
     */
    public MpiException(String message, Throwable cause) {
        super(message, cause);
    }
}
