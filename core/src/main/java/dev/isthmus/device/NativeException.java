package dev.isthmus.device;

/**
 * A native library returned an error status. The message names the operation, the library's own
 * name and description of the status, and, where one helps, what to do about it.
 */
public class NativeException extends RuntimeException {
    /** The library that failed. */
    private final String library;
    /** The operation that was being done. */
    private final String operation;
    /** The library's status code. */
    private final int status;

    /**
     * A native call that returned a failure status.
     *
     * @param library the library that failed
     * @param operation the operation that was being done
     * @param status the library's status code
     * @param statusName the status's name in the library's headers
     * @param description one line saying what the model is
     */
    public NativeException(String library, String operation, int status, String statusName, String description) {
        super(library + " " + operation + " failed: " + statusName + " (" + status + "): " + description);
        this.library = library;
        this.operation = operation;
        this.status = status;
    }

    /** {@return the library that failed (cuBLAS, cuDNN, oneDNN ...)} */
    public String library() {
        return library;
    }

    /** {@return the operation that was being done} */
    public String operation() {
        return operation;
    }

    /** {@return the library's status code} */
    public int status() {
        return status;
    }
}
