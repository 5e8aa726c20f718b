package dev.isthmus.data;

import dev.isthmus.io.FileFormatException;
import dev.isthmus.tensor.Shape;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the CIFAR-10 binary version (cifar-10-binary.tar.gz, unpacked): each record is one label
 * byte followed by a 32x32 image as three 1024-byte planes, red then green then blue — already
 * CHW, so records are copied as they are. The training set is data_batch_1.bin to
 * data_batch_5.bin, the test set test_batch.bin.
 *
 * <p>Sizes are checked before anything is allocated: each file must be a non-empty whole number
 * of records (a partial record is reported at its offset) and labels must be below 10.
 */
public final class Cifar10 {
    /** CIFAR-10's ten classes. */
    public static final int CLASSES = 10;
    /** One CIFAR-10 image: 3×32×32. */
    public static final Shape SAMPLE_SHAPE = Shape.of(3, 32, 32);
    static final int IMAGE_BYTES = 3 * 32 * 32;
    static final int RECORD_BYTES = 1 + IMAGE_BYTES;

    private Cifar10() {
    }

    /**
     * {@return the images and labels of CIFAR-10 binary batch files, in order}
     *
     * @param files the files, in order
     * @throws IOException when reading or writing the file fails
     */
    public static InMemoryDataset read(List<Path> files) throws IOException {
        return read(files, "cifar-10 " + (files == null ? "" : files.stream()
                .map(file -> String.valueOf(file.getFileName())).toList()));
    }

    /**
     * Reads the records of {@code files}, in order, into one dataset called {@code name}.
     *
     * @param files the files, in order
     * @param name the dataset's name, for messages
     * @return the dataset
     * @throws IOException when reading or writing the file fails
     */
    public static InMemoryDataset read(List<Path> files, String name) throws IOException {
        if (files == null || files.isEmpty()) {
            throw new IllegalArgumentException("Cifar10.read: no files given");
        }
        long records = 0;
        for (Path file : files) {
            long size = Files.size(file);
            if (size == 0) {
                throw new FileFormatException(file, 0, "file is empty; a CIFAR-10 batch holds records of "
                        + RECORD_BYTES + " bytes");
            }
            if (size % RECORD_BYTES != 0) {
                long partial = size - size % RECORD_BYTES;
                throw new FileFormatException(file, partial, "partial record of " + (size - partial)
                        + " bytes; a CIFAR-10 batch is a whole number of " + RECORD_BYTES + "-byte records");
            }
            records += size / RECORD_BYTES;
        }
        if (records * IMAGE_BYTES > IdxFiles.MAX_DATA_BYTES) {
            throw new IllegalArgumentException("Cifar10.read: " + records + " records exceed the "
                    + IdxFiles.MAX_DATA_BYTES + "-byte limit of one array");
        }
        byte[] pixels = new byte[(int) (records * IMAGE_BYTES)];
        byte[] labels = new byte[(int) records];
        int sample = 0;
        byte[] record = new byte[RECORD_BYTES];
        for (Path file : files) {
            try (InputStream input = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                for (long offset = 0; ; offset += RECORD_BYTES) {
                    int read = input.readNBytes(record, 0, RECORD_BYTES);
                    if (read == 0) {
                        break;
                    }
                    if (read < RECORD_BYTES || sample == records) {
                        // Only when the file changed size since it was measured.
                        throw new FileFormatException(file, offset, "file changed while it was read");
                    }
                    int label = record[0] & 0xFF;
                    if (label >= CLASSES) {
                        throw new FileFormatException(file, offset, "label " + label + " of record "
                                + offset / RECORD_BYTES + " is not below " + CLASSES);
                    }
                    labels[sample] = record[0];
                    System.arraycopy(record, 1, pixels, sample * IMAGE_BYTES, IMAGE_BYTES);
                    sample++;
                }
            }
        }
        if (sample != records) {
            throw new FileFormatException(files.getLast(), 0, "files changed while they were read");
        }
        return new InMemoryDataset(name, SAMPLE_SHAPE, CLASSES, pixels, labels);
    }
}
