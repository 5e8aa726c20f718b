package dev.isthmus.data;

import dev.isthmus.io.FileFormatException;
import dev.isthmus.tensor.Shape;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST-style IDX files (MNIST, Fashion-MNIST): a big-endian magic number
 * {@code 0x000008DD} (0x08 = unsigned bytes, DD = number of dimensions), DD big-endian 32-bit
 * dimensions, then the bytes. Images have three dimensions (count, rows, columns), labels one.
 * A file is gzip-compressed when it starts with gzip's magic bytes 1f 8b, whatever its name.
 *
 * <p>Nothing is allocated from an unchecked header. Every dimension must fit a signed 32-bit
 * integer and the data must fit one Java byte array ({@link #MAX_DATA_BYTES}). For a raw file the
 * declared size is checked against the file size before the array is allocated; for a gzip file,
 * whose decompressed size is unknown up front, the array grows with the data actually
 * decompressed, so a lying header costs at most twice what the stream really holds.
 *
 * <p>Trailing bytes after the declared data are refused: the header and the content then disagree,
 * which means a wrong or damaged file rather than one to guess about. Every violation is a
 * {@link FileFormatException} naming the file and the byte offset (for gzip files, the offset in
 * the decompressed stream).
 */
public final class IdxFiles {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    /** The largest byte array the JVM allocates. */
    static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;
    /** Gzip data is read into an array that starts at this size and doubles as data arrives. */
    private static final int FIRST_CHUNK_BYTES = 1 << 20;

    private IdxFiles() {
    }

    /**
     * Reads an images file and its labels file into a dataset of [1, rows, columns] samples.
     *
     * @param classes labels must lie in [0, classes); at most 256 since labels are bytes
     * @param images the images
     * @param labels the labels file
     * @param name the dataset's name, for messages
     * @return the dataset
     * @throws IOException when reading or writing the file fails
     */
    public static InMemoryDataset read(Path images, Path labels, String name, int classes) throws IOException {
        if (images == null || labels == null) {
            throw new IllegalArgumentException("IdxFiles.read: images and labels paths must not be null");
        }
        if (classes < 1 || classes > 256) {
            throw new IllegalArgumentException("IdxFiles.read: classes must be in [1, 256] (labels are bytes), got "
                    + classes);
        }
        int count;
        int rows;
        int columns;
        byte[] pixels;
        try (Source source = Source.open(images)) {
            source.expectMagic(IMAGES_MAGIC, "images (unsigned bytes, 3 dimensions)");
            count = source.readDimension("image count");
            rows = source.readDimension("rows");
            columns = source.readDimension("columns");
            if (rows < 1 || columns < 1) {
                throw source.error(8, "images of " + rows + "x" + columns + " pixels are empty");
            }
            long imageBytes = (long) rows * columns;
            if (imageBytes > MAX_DATA_BYTES || count * imageBytes > MAX_DATA_BYTES) {
                throw source.error(4, count + " images of " + rows + "x" + columns + " pixels exceed the "
                        + MAX_DATA_BYTES + "-byte limit of one array");
            }
            pixels = source.readData(count * imageBytes, count + " images of " + rows + "x" + columns);
            source.expectEnd();
        }
        byte[] labelBytes;
        try (Source source = Source.open(labels)) {
            source.expectMagic(LABELS_MAGIC, "labels (unsigned bytes, 1 dimension)");
            int labelCount = source.readDimension("label count");
            if (labelCount != count) {
                throw source.error(4, "declares " + labelCount + " labels, but " + images + " declares "
                        + count + " images");
            }
            long dataStart = source.position();
            labelBytes = source.readData(labelCount, labelCount + " labels");
            source.expectEnd();
            for (int i = 0; i < labelBytes.length; i++) {
                int label = labelBytes[i] & 0xFF;
                if (label >= classes) {
                    throw source.error(dataStart + i, "label " + label + " of sample " + i
                            + " is not below the class count " + classes);
                }
            }
        }
        return new InMemoryDataset(name, Shape.of(1, rows, columns), classes, pixels, labelBytes);
    }

    /** One IDX file being read front to back, raw or gzip, with the position it has reached. */
    private static final class Source implements AutoCloseable {
        private final Path file;
        private final InputStream input;
        private final boolean gzip;
        /** The file size for raw files; unknown (-1) for gzip. */
        private final long rawSize;
        private long position;

        private Source(Path file, InputStream input, boolean gzip, long rawSize) {
            this.file = file;
            this.input = input;
            this.gzip = gzip;
            this.rawSize = rawSize;
        }

        static Source open(Path file) throws IOException {
            long size = Files.size(file);
            BufferedInputStream buffered = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            try {
                buffered.mark(2);
                boolean gzip = buffered.read() == 0x1f && buffered.read() == 0x8b;
                buffered.reset();
                if (!gzip) {
                    return new Source(file, buffered, false, size);
                }
                try {
                    return new Source(file, new GZIPInputStream(buffered, 1 << 16), true, -1);
                } catch (ZipException | EOFException bad) {
                    throw new FileFormatException(file, 0, "starts like gzip (1f 8b) but its gzip header is corrupt: "
                            + bad.getMessage());
                }
            } catch (IOException | RuntimeException failure) {
                buffered.close();
                throw failure;
            }
        }

        long position() {
            return position;
        }

        FileFormatException error(long offset, String problem) {
            return new FileFormatException(file, offset,
                    gzip ? problem + " (offsets count bytes of the decompressed gzip stream)" : problem);
        }

        void expectMagic(int expected, String kind) throws IOException {
            int magic = readInt("magic number");
            if (magic != expected) {
                String seen = switch (magic) {
                    case IMAGES_MAGIC -> " (an IDX images file)";
                    case LABELS_MAGIC -> " (an IDX labels file)";
                    default -> (magic >>> 16) == 0 && (magic >>> 8 & 0xFF) == 0x08
                            ? " (IDX bytes with " + (magic & 0xFF) + " dimensions)" : " (not IDX)";
                };
                throw error(0, String.format("magic number 0x%08x%s; expected 0x%08x for IDX %s",
                        magic, seen, expected, kind));
            }
        }

        /** A dimension, refused when it does not fit a signed 32-bit integer. */
        int readDimension(String what) throws IOException {
            long offset = position;
            int value = readInt(what);
            if (value < 0) {
                throw error(offset, what + " " + Integer.toUnsignedString(value) + " exceeds " + Integer.MAX_VALUE);
            }
            return value;
        }

        private int readInt(String what) throws IOException {
            int value = 0;
            for (int i = 0; i < 4; i++) {
                int next = readByte();
                if (next < 0) {
                    throw error(position, "file ends inside the " + what + " (a 4-byte big-endian integer)");
                }
                value = value << 8 | next;
            }
            return value;
        }

        private int readByte() throws IOException {
            int next;
            try {
                next = input.read();
            } catch (ZipException | EOFException bad) {
                throw corrupt(position, bad);
            }
            if (next >= 0) {
                position++;
            }
            return next;
        }

        /** The next {@code byteCount} bytes (at most {@link #MAX_DATA_BYTES}), checked before allocating. */
        byte[] readData(long byteCount, String what) throws IOException {
            long start = position;
            if (!gzip && byteCount > rawSize - start) {
                throw error(rawSize, "file ends after " + (rawSize - start) + " of the " + byteCount
                        + " data bytes its header declares (" + what + ")");
            }
            byte[] data = new byte[(int) (gzip ? Math.min(byteCount, FIRST_CHUNK_BYTES) : byteCount)];
            int filled = 0;
            while (filled < byteCount) {
                if (filled == data.length) {
                    data = Arrays.copyOf(data, (int) Math.min(byteCount, 2L * data.length));
                }
                int read;
                try {
                    read = input.read(data, filled, data.length - filled);
                } catch (ZipException | EOFException bad) {
                    throw corrupt(start + filled, bad);
                }
                if (read < 0) {
                    throw error(start + filled, "data ends after " + filled + " of the " + byteCount
                            + " bytes its header declares (" + what + ")");
                }
                filled += read;
            }
            position = start + filled;
            return data;
        }

        void expectEnd() throws IOException {
            if (readByte() >= 0) {
                String extra = gzip ? "" : " (" + (rawSize - position + 1) + " bytes)";
                throw error(position - 1, "trailing data after the declared content" + extra
                        + "; the header does not describe this file");
            }
        }

        private FileFormatException corrupt(long offset, IOException bad) {
            return error(offset, "gzip stream is corrupt or truncated: " + bad.getMessage());
        }

        @Override
        public void close() throws IOException {
            input.close();
        }
    }
}
