package dev.isthmus.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How much memory this process may still take on the host, as the kernel will judge it: the
 * smaller of {@code MemAvailable} in {@code /proc/meminfo} (what can be allocated without swapping)
 * and, inside a cgroup v2 limit, {@code memory.max − memory.current}. Past either the OOM killer
 * ends the process with no message, which is what {@link dev.isthmus.nn.Model#build} refuses to risk.
 */
public final class HostMemory {
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final Path CGROUP = Path.of("/sys/fs/cgroup");

    private HostMemory() {
    }

    /** {@return the bytes this process can still allocate on the host, and why that figure} */
    public static AvailableMemory available() {
        long meminfo = memAvailable();
        long cgroup = cgroupHeadroom();
        if (cgroup < meminfo) {
            return new AvailableMemory(cgroup, "the cgroup limit (memory.max − memory.current)");
        }
        return new AvailableMemory(meminfo, meminfo == Long.MAX_VALUE ? "unknown (no /proc/meminfo)" : "MemAvailable in /proc/meminfo");
    }

    private static long memAvailable() {
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("MemAvailable:")) {
                    String[] parts = line.substring("MemAvailable:".length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // Not Linux, or an unusual kernel: no figure, so no refusal on its account.
        }
        return Long.MAX_VALUE;
    }

    private static long cgroupHeadroom() {
        try {
            Path max = CGROUP.resolve("memory.max");
            Path current = CGROUP.resolve("memory.current");
            if (!Files.isReadable(max) || !Files.isReadable(current)) {
                return Long.MAX_VALUE;
            }
            String limit = Files.readString(max).trim();
            if (limit.equals("max")) {
                return Long.MAX_VALUE;
            }
            List<String> used = Files.readAllLines(current);
            return Math.max(0, Long.parseLong(limit) - Long.parseLong(used.getFirst().trim()));
        } catch (IOException | RuntimeException unreadable) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Bytes as people read them: "512 B", "3.4 MiB", "41.2 GiB".
     *
     * @param bytes a byte count
     * @return the count with a binary unit
     */
    public static String format(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "unknown";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format("%.1f %s", value, units[unit]);
    }
}
