package dev.isthmus.io;

import java.nio.file.Path;

/** A data or checkpoint file is truncated, corrupt or not what it claims; names the file and the byte offset. */
public final class FileFormatException extends RuntimeException {
    private final Path file;
    private final long offset;

    public FileFormatException(Path file, long offset, String problem) {
        super(file + " at byte " + offset + ": " + problem);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
