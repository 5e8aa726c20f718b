package dev.isthmus.data;

import java.io.IOException;
import java.nio.file.Path;

/** An image file could not be decoded: missing, unreadable, not a PNG or JPEG, truncated or corrupt. */
public final class UnreadableImageException extends IOException {
    private final transient Path file;
    /** Why, without the file name. */
    private final String reason;

    /**
     * An image file that could not be decoded.
     *
     * @param file the file
     * @param reason why
     */
    public UnreadableImageException(Path file, String reason) {
        super(file + ": " + reason);
        this.file = file;
        this.reason = reason;
    }

    /**
     * An image file that could not be decoded, with the decoder's exception.
     *
     * @param file the file
     * @param reason why
     * @param cause the decoder's exception
     */
    public UnreadableImageException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    /** {@return the file} */
    public Path file() {
        return file;
    }

    /**
     * Why, without the file name.
     *
     * @return why, without the file name
     */
    public String reason() {
        return reason;
    }
}
