package dev.isthmus.device.cuda;

import dev.isthmus.bindings.cudnn.cudnn_h;
import dev.isthmus.device.ConvGeometry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which of cudnnFind's results a plan runs, with which math type, and how long the choice is kept. */
class AlgorithmChoiceTest {
    private static final int OK = 0;
    private static final int NOT_SUPPORTED = 3000;
    private static final int DET = AlgorithmChoice.CUDNN_DETERMINISTIC;
    private static final int NON_DET = 0;
    private static final int DEFAULT = cudnn_h.CUDNN_DEFAULT_MATH();
    private static final int TENSOR_OP = cudnn_h.CUDNN_TENSOR_OP_MATH();
    private static final int FMA = cudnn_h.CUDNN_FMA_MATH();
    private static final long LIMIT = 512L << 20;

    // cuDNN's order: fastest first.
    private static final List<AlgorithmChoice.Candidate> RESULTS = List.of(
            new AlgorithmChoice.Candidate(7, NOT_SUPPORTED, 0, DET, FMA),
            new AlgorithmChoice.Candidate(6, OK, 2L << 30, DET, FMA),
            new AlgorithmChoice.Candidate(1, OK, 1 << 20, NON_DET, TENSOR_OP),
            new AlgorithmChoice.Candidate(0, OK, 4 << 20, NON_DET, FMA),
            new AlgorithmChoice.Candidate(3, OK, 8 << 20, DET, TENSOR_OP),
            new AlgorithmChoice.Candidate(2, OK, 0, DET, DEFAULT));

    @Test
    void theFastestAllowedResultWinsWithTheMathTypeItWasTimedWith() {
        AlgorithmChoice tf32 = AlgorithmChoice.pick("forward", RESULTS, new AlgorithmChoice.Rules(false, true, LIMIT));
        assertEquals(new AlgorithmChoice(1, 1 << 20, TENSOR_OP), tf32, "failed and oversized results are skipped");
    }

    @Test
    void strictFp32SkipsTensorOpResultsAndRunsWithFmaMath() {
        AlgorithmChoice strict = AlgorithmChoice.pick("forward", RESULTS, new AlgorithmChoice.Rules(false, false, LIMIT));
        assertEquals(new AlgorithmChoice(0, 4 << 20, FMA), strict);
    }

    @Test
    void determinismExcludesNonDeterministicAlgorithms() {
        AlgorithmChoice tf32 = AlgorithmChoice.pick("backward-filter", RESULTS, new AlgorithmChoice.Rules(true, true, LIMIT));
        assertEquals(new AlgorithmChoice(3, 8 << 20, TENSOR_OP), tf32);
        AlgorithmChoice strict = AlgorithmChoice.pick("backward-filter", RESULTS, new AlgorithmChoice.Rules(true, false, LIMIT));
        assertEquals(new AlgorithmChoice(2, 0, FMA), strict, "a DEFAULT-math result runs with FMA math in strict FP32");
    }

    @Test
    void noUsableResultIsExplainedByCount() {
        IllegalStateException failure = assertThrows(IllegalStateException.class, () -> AlgorithmChoice.pick("backward-data",
                RESULTS.subList(0, 5), new AlgorithmChoice.Rules(true, false, LIMIT)));
        String message = failure.getMessage();
        assertTrue(message.contains("backward-data"), message);
        assertTrue(message.contains("among 5: 1 failed, 1 need more than 512 MiB of workspace, 2 are not deterministic"),
                message);
        assertTrue(message.contains("1 use tensor-op math"), message);
    }

    @Test
    void theCacheSearchesOncePerGpuGeometryAndRules() {
        AlgorithmCache cache = new AlgorithmCache();
        ConvGeometry full = new ConvGeometry(128, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        ConvGeometry lastBatch = new ConvGeometry(80, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1);
        int[] searches = {0};
        AlgorithmCache.Algorithms found = new AlgorithmCache.Algorithms(new AlgorithmChoice(1, 100, FMA),
                new AlgorithmChoice(2, 300, FMA), new AlgorithmChoice(3, 200, FMA));
        java.util.function.Supplier<AlgorithmCache.Algorithms> search = () -> {
            searches[0]++;
            return found;
        };
        int f32 = cudnn_h.CUDNN_DATA_FLOAT();
        for (int epoch = 0; epoch < 3; epoch++) {
            assertSame(found, cache.get(new AlgorithmCache.Key(0, full, f32, false, false), search));
            assertSame(found, cache.get(new AlgorithmCache.Key(0, lastBatch, f32, false, false), search));
        }
        assertEquals(2, searches[0], "one search per geometry, not per plan");
        cache.get(new AlgorithmCache.Key(1, full, f32, false, false), search);
        cache.get(new AlgorithmCache.Key(0, full, cudnn_h.CUDNN_DATA_FLOAT() + 1, false, false), search);
        cache.get(new AlgorithmCache.Key(0, full, f32, true, false), search);
        cache.get(new AlgorithmCache.Key(0, full, f32, false, true), search);
        assertEquals(6, searches[0], "another GPU, data type or rule is another search");
        assertEquals(300, found.workspaceBytes(), "one workspace serves the three directions");
    }

    @Test
    void aFailedSearchIsNotKept() {
        AlgorithmCache cache = new AlgorithmCache();
        AlgorithmCache.Key key = new AlgorithmCache.Key(0, new ConvGeometry(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1),
                cudnn_h.CUDNN_DATA_FLOAT(), false, false);
        assertThrows(IllegalStateException.class, () -> cache.get(key, () -> {
            throw new IllegalStateException("cudnnFind failed");
        }));
        AlgorithmCache.Algorithms found = new AlgorithmCache.Algorithms(new AlgorithmChoice(0, 0, FMA),
                new AlgorithmChoice(0, 0, FMA), new AlgorithmChoice(0, 0, FMA));
        assertSame(found, cache.get(key, () -> found));
    }
}
