package dev.isthmus.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX and CIFAR-10 files for the reader tests. */
final class TestFiles {
    private TestFiles() {
    }

    /** An IDX file: big-endian magic, dimensions, then the data bytes as given. */
    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        buffer.putInt(magic);
        for (int dim : dims) {
            buffer.putInt(dim);
        }
        buffer.put(data);
        return buffer.array();
    }

    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream output = new GZIPOutputStream(bytes)) {
            output.write(content);
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
        return bytes.toByteArray();
    }

    static Path write(Path file, byte[] content) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, content);
        } catch (IOException failure) {
            throw new UncheckedIOException(failure);
        }
    }

    /** {@code count} images of rows x columns whose pixel i of image n is (n * 31 + i * 7) mod 256. */
    static byte[] imagePixels(int count, int rows, int columns) {
        byte[] pixels = new byte[count * rows * columns];
        for (int image = 0; image < count; image++) {
            for (int i = 0; i < rows * columns; i++) {
                pixels[image * rows * columns + i] = (byte) (image * 31 + i * 7);
            }
        }
        return pixels;
    }

    static byte[] imagesFile(int count, int rows, int columns) {
        return idx(IdxFiles.IMAGES_MAGIC, new int[] {count, rows, columns}, imagePixels(count, rows, columns));
    }

    static byte[] labelsFile(byte... labels) {
        return idx(IdxFiles.LABELS_MAGIC, new int[] {labels.length}, labels);
    }

    /** CIFAR-10 records: label, then 3072 pixels where pixel i of record r is (r + i) mod 256. */
    static byte[] cifarRecords(int... labels) {
        byte[] content = new byte[labels.length * Cifar10.RECORD_BYTES];
        for (int record = 0; record < labels.length; record++) {
            int start = record * Cifar10.RECORD_BYTES;
            content[start] = (byte) labels[record];
            for (int i = 0; i < Cifar10.IMAGE_BYTES; i++) {
                content[start + 1 + i] = (byte) (record + i);
            }
        }
        return content;
    }
}
