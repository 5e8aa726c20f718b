package dev.isthmus.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw little-endian data. The file is
 * memory-mapped; {@link #close()} unmaps it.
 *
 * <p>Everything in the header is checked before any data is touched: the header length against
 * the file size, the JSON, each dtype, each shape (no negative dimension, no overflowing element
 * count), and each byte range against the data section and the shape. A violation is a
 * {@link FileFormatException} naming the file and the byte offset.
 */
public final class SafeTensors implements AutoCloseable {
    /** Headers are small; a larger claim is corruption, not a header. */
    static final long MAX_HEADER_BYTES = 100L << 20;

    /**
     * One tensor's description.
     *
     * @param name the tensor's name
     * @param dtype the safetensors dtype ("F32", "I64" ...)
     * @param shape the dimensions
     * @param dataOffset where the tensor's bytes start, from the end of the header
     * @param byteLength the tensor's size in bytes
     */
    public record Entry(String name, String dtype, int[] shape, long dataOffset, long byteLength) {
        /** {@return the number of elements, the product of the shape} */
        public long elementCount() {
            long count = 1;
            for (int dim : shape) {
                count *= dim;
            }
            return count;
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, MemorySegment mapped, Map<String, Entry> entries,
                        Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Maps {@code file} and reads its header, checking every entry against the file's size.
     *
     * @param file the file
     * @return the opened file; close it to unmap
     * @throws IOException when the file cannot be read
     */
    public static SafeTensors open(Path file) throws IOException {
        // The file is mapped as a native segment: a restricted operation.
        dev.isthmus.bindings.NativeAccess.require(SafeTensors.class.getModule(), "reading " + file);
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment mapped = size == 0 ? MemorySegment.NULL.reinterpret(0)
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            SafeTensors opened = parse(file, arena, mapped);
            return opened;
        } catch (IOException | RuntimeException failure) {
            arena.close();
            throw failure;
        }
    }

    private static SafeTensors parse(Path file, Arena arena, MemorySegment mapped) {
        long size = mapped.byteSize();
        if (size < 8) {
            throw new FileFormatException(file, 0, "file of " + size + " bytes is too short for a safetensors header length");
        }
        long headerLength = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
            throw new FileFormatException(file, 0, "header length " + Long.toUnsignedString(headerLength)
                    + " is impossible for a file of " + size + " bytes");
        }
        byte[] headerBytes = mapped.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        String headerText;
        try {
            headerText = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(headerBytes)).toString();
        } catch (CharacterCodingException bad) {
            throw new FileFormatException(file, 8, "header is not UTF-8");
        }
        Map<String, Object> header;
        try {
            header = Json.parseObject(headerText);
        } catch (Json.ParseException bad) {
            throw new FileFormatException(file, 8 + bad.offset(), "header is not valid JSON: " + bad.getMessage());
        }
        long dataStart = 8 + headerLength;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, Object> field : header.entrySet()) {
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                if (!(field.getValue() instanceof Map<?, ?> map)) {
                    throw new FileFormatException(file, 8, "__metadata__ is not an object");
                }
                for (Map.Entry<?, ?> item : map.entrySet()) {
                    if (!(item.getValue() instanceof String text)) {
                        throw new FileFormatException(file, 8, "__metadata__." + item.getKey() + " is not a string");
                    }
                    metadata.put(String.valueOf(item.getKey()), text);
                }
                continue;
            }
            entries.put(name, entry(file, name, field.getValue(), dataStart, dataSize));
        }
        checkNoOverlap(file, entries, dataStart);
        return new SafeTensors(file, arena, mapped, Collections.unmodifiableMap(entries),
                Collections.unmodifiableMap(metadata));
    }

    private static Entry entry(Path file, String name, Object description, long dataStart, long dataSize) {
        if (!(description instanceof Map<?, ?> fields)) {
            throw new FileFormatException(file, 8, "tensor '" + name + "' is not described by an object");
        }
        if (!(fields.get("dtype") instanceof String dtype)) {
            throw new FileFormatException(file, 8, "tensor '" + name + "' has no dtype");
        }
        int elementBytes = switch (dtype) {
            case "F32", "I32" -> 4;
            case "F64", "I64" -> 8;
            case "F16", "BF16", "I16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default -> throw new FileFormatException(file, 8, "tensor '" + name + "' has unknown dtype '" + dtype + "'");
        };
        if (!(fields.get("shape") instanceof List<?> dims)) {
            throw new FileFormatException(file, 8, "tensor '" + name + "' has no shape list");
        }
        if (dims.size() > 8) {
            throw new FileFormatException(file, 8, "tensor '" + name + "' has rank " + dims.size() + " (at most 8 supported)");
        }
        int[] shape = new int[dims.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long dim) || dim < 0 || dim > Integer.MAX_VALUE) {
                throw new FileFormatException(file, 8, "tensor '" + name + "' has an invalid dimension " + dims.get(i));
            }
            shape[i] = (int) (long) dim;
            count *= dim;
            if (count > Integer.MAX_VALUE) {
                throw new FileFormatException(file, 8, "tensor '" + name + "' has more than 2^31-1 elements");
            }
        }
        if (!(fields.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
            throw new FileFormatException(file, 8, "tensor '" + name + "' has no [begin, end] data_offsets");
        }
        if (begin < 0 || end < begin || end > dataSize) {
            throw new FileFormatException(file, dataStart + Math.max(0, begin), "tensor '" + name + "' claims bytes ["
                    + begin + ", " + end + ") of a data section of " + dataSize + " bytes");
        }
        if (end - begin != count * elementBytes) {
            throw new FileFormatException(file, dataStart + begin, "tensor '" + name + "' of shape "
                    + java.util.Arrays.toString(shape) + " " + dtype + " needs " + count * elementBytes
                    + " bytes but its range holds " + (end - begin));
        }
        return new Entry(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static void checkNoOverlap(Path file, Map<String, Entry> entries, long dataStart) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::dataOffset));
        for (int i = 1; i < sorted.size(); i++) {
            Entry previous = sorted.get(i - 1);
            Entry current = sorted.get(i);
            if (current.dataOffset() < previous.dataOffset() + previous.byteLength()) {
                throw new FileFormatException(file, current.dataOffset(), "tensors '" + previous.name() + "' and '"
                        + current.name() + "' overlap");
            }
        }
    }

    /** {@return the file read} */
    public Path file() {
        return file;
    }

    /** {@return every tensor's description, by name, in file order} */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** {@return the header's {@code __metadata__} entries} */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * {@return whether the file holds a tensor named {@code name}}
     *
     * @param name the tensor's name
     */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * {@return the description of tensor {@code name}}
     *
     * @param name the tensor's name
     */
    public Entry entry(String name) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new IllegalArgumentException(file + ": no tensor named '" + name + "' (it has: "
                    + String.join(", ", entries.keySet()) + ")");
        }
        return entry;
    }

    /**
     * The raw little-endian bytes of a tensor, as a read-only slice of the mapped file.
     *
     * @param name the tensor's name
     * @return the raw little-endian bytes of a tensor, as a read-only slice of the mapped file
     */
    public MemorySegment bytes(String name) {
        Entry entry = entry(name);
        return mapped.asSlice(entry.dataOffset(), entry.byteLength()).asReadOnly();
    }

    /**
     * A float32 tensor's values.
     *
     * @param name the tensor's name
     * @return a float32 tensor's values
     */
    public float[] floats(String name) {
        Entry entry = entry(name);
        if (!entry.dtype().equals("F32")) {
            throw new FileFormatException(file, entry.dataOffset(), "tensor '" + name + "' is " + entry.dtype() + ", expected F32");
        }
        return bytes(name).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * An integer tensor's values (I32, or I64 within int range).
     *
     * @param name the tensor's name
     * @return an integer tensor's values (I32, or I64 within int range)
     */
    public int[] ints(String name) {
        Entry entry = entry(name);
        MemorySegment data = bytes(name);
        return switch (entry.dtype()) {
            case "I32" -> data.toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            case "I64" -> {
                long[] wide = data.toArray(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                int[] narrow = new int[wide.length];
                for (int i = 0; i < wide.length; i++) {
                    if (wide[i] < Integer.MIN_VALUE || wide[i] > Integer.MAX_VALUE) {
                        throw new FileFormatException(file, entry.dataOffset() + 8L * i, "tensor '" + name
                                + "' holds " + wide[i] + ", outside the int range");
                    }
                    narrow[i] = (int) wide[i];
                }
                yield narrow;
            }
            default -> throw new FileFormatException(file, entry.dataOffset(), "tensor '" + name + "' is "
                    + entry.dtype() + ", expected I32 or I64");
        };
    }

    @Override
    public void close() {
        arena.close();
    }

    // ---------------------------------------------------------------- writing

    /**
     * A tensor to write: little-endian bytes of {@code shape} elements of {@code dtype}.
     *
     * @param name the tensor's name
     * @param dtype the safetensors dtype ("F32", "I64" ...)
     * @param shape the dimensions
     * @param data the little-endian bytes
     */
    public record Item(String name, String dtype, int[] shape, MemorySegment data) {
    }

    /**
     * Writes a safetensors file atomically: to a temporary file in the same folder, forced to disk,
     * then renamed over {@code file}, so an interrupted write never leaves a half-written file
     * under the final name.
     *
     * @param file the file
     * @param items the tensors to write, in file order
     * @param metadata the {@code __metadata__} entries
     * @throws IOException when reading or writing the file fails
     */
    public static void write(Path file, List<Item> items, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Item item : items) {
            long length = item.data().byteSize();
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("dtype", item.dtype());
            description.put("shape", item.shape());
            description.put("data_offsets", new long[] {offset, offset + length});
            if (header.put(item.name(), description) != null) {
                throw new IllegalArgumentException("safetensors: tensor name '" + item.name() + "' appears twice");
            }
            offset += length;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = new byte[padded];
        System.arraycopy(json, 0, headerBytes, 0, json.length);
        java.util.Arrays.fill(headerBytes, json.length, padded, (byte) ' ');

        Path folder = file.toAbsolutePath().getParent();
        Files.createDirectories(folder);
        removeLeftovers(folder, file.getFileName().toString());
        Path temporary = Files.createTempFile(folder, "." + file.getFileName() + ".", ".partial");
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer length = java.nio.ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                length.putLong(padded).flip();
                writeFully(channel, length);
                writeFully(channel, java.nio.ByteBuffer.wrap(headerBytes));
                byte[] chunk = new byte[1 << 20];
                MemorySegment staging = MemorySegment.ofArray(chunk);
                for (Item item : items) {
                    // Copy through a byte[]: the data may be native memory or any Java array.
                    long size = item.data().byteSize();
                    for (long done = 0; done < size; done += chunk.length) {
                        int n = (int) Math.min(chunk.length, size - done);
                        MemorySegment.copy(item.data(), done, staging, 0, n);
                        writeFully(channel, java.nio.ByteBuffer.wrap(chunk, 0, n));
                    }
                }
                channel.force(true);
            }
            Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Deletes what killed writers of this file left behind. One writer owns a checkpoint file at a
     * time, so any temporary of the same name found now is dead.
     */
    private static void removeLeftovers(Path folder, String name) throws IOException {
        String prefix = "." + name + ".";
        // A filter, not a glob: a file name may hold glob characters.
        try (java.nio.file.DirectoryStream<Path> leftovers = Files.newDirectoryStream(folder, candidate -> {
            String leftover = candidate.getFileName().toString();
            return leftover.startsWith(prefix) && leftover.endsWith(".partial");
        })) {
            for (Path leftover : leftovers) {
                Files.deleteIfExists(leftover);
            }
        }
    }

    private static void writeFully(FileChannel channel, java.nio.ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
