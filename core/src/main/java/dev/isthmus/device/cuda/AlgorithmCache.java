package dev.isthmus.device.cuda;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The convolution algorithms chosen per GPU, geometry, data type and math rules, kept for the
 * process: a plan made again for the same convolution (the last, smaller batch of every epoch, a
 * model rebuilt, a second model) reuses the choice instead of running three cudnnFind searches,
 * which take time and allocate GPU memory.
 */
final class AlgorithmCache {
    /** What the choice depends on; the geometry is a ConvGeometry or a Conv3dGeometry (records, compared by value). */
    record Key(int ordinal, Record geometry, int dataType, boolean tf32, boolean deterministic) {
    }

    /** The three directions' choices; one workspace big enough for all three serves the plan. */
    record Algorithms(AlgorithmChoice forward, AlgorithmChoice backwardData, AlgorithmChoice backwardFilter) {
        long workspaceBytes() {
            return Math.max(forward.workspaceBytes(), Math.max(backwardData.workspaceBytes(), backwardFilter.workspaceBytes()));
        }
    }

    static final AlgorithmCache PROCESS = new AlgorithmCache();

    private final ConcurrentHashMap<Key, Algorithms> chosen = new ConcurrentHashMap<>();

    /** The cached choice for {@code key}, or the one {@code search} finds, kept unless it throws. */
    Algorithms get(Key key, Supplier<Algorithms> search) {
        return chosen.computeIfAbsent(key, k -> search.get());
    }
}
