package dev.isthmus.data;

/**
 * A dataset's files are not where they were looked for. The message says which files, in which
 * folder(s), and how to get them.
 */
public final class DatasetNotFoundException extends RuntimeException {
    /**
     * A dataset that is not where it was looked for.
     *
     * @param message what is missing and where it was looked for
     */
    public DatasetNotFoundException(String message) {
        super(message);
    }
}
