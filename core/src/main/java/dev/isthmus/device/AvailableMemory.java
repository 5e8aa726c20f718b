package dev.isthmus.device;

/**
 * What a device can still allocate, with where the figure comes from ({@link Device#memoryAvailable()}).
 *
 * @param bytes the bytes available, or {@link Long#MAX_VALUE} when nothing could be read
 * @param source where the figure comes from, for messages ("MemAvailable in /proc/meminfo", "cuMemGetInfo")
 */
public record AvailableMemory(long bytes, String source) {
}
