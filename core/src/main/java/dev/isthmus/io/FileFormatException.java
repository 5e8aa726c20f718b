package dev.isthmus.io;

import java.nio.file.Path;

/** A data or checkpoint file is truncated, corrupt or not what it claims; names the file and the byte offset. */
public final class FileFormatException extends RuntimeException {
    /** The file. */
    private final Path file;
    /** The byte offset of the problem. */
    private final long offset;

    /**
     * A file that is not what it should be at byte {@code offset}.
     *
     * @param file the file
     * @param offset the element where the matrix starts
     * @param problem what is wrong
     */
    public FileFormatException(Path file, long offset, String problem) {
        super(file + " at byte " + offset + ": " + problem);
        this.file = file;
        this.offset = offset;
    }

    /** {@return the file} */
    public Path file() {
        return file;
    }

    /** {@return the byte offset of the problem} */
    public long offset() {
        return offset;
    }
}
