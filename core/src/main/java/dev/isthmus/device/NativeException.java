package dev.isthmus.device;

/**
 * A native library returned an error status. The message names the operation, the library's own
 * name and description of the status, and, where one helps, what to do about it.
 */
public class NativeException extends RuntimeException {
    private final String library;
    private final String operation;
    private final int status;

    public NativeException(String library, String operation, int status, String statusName, String description) {
        super(library + " " + operation + " failed: " + statusName + " (" + status + "): " + description);
        this.library = library;
        this.operation = operation;
        this.status = status;
    }

    public String library() {
        return library;
    }

    public String operation() {
        return operation;
    }

    public int status() {
        return status;
    }
}
