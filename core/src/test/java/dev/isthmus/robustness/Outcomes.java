package dev.isthmus.robustness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bookkeeping for the misuse campaign: every generated case must end in success or in one of the
 * documented exceptions, with a message; anything else (a NullPointerException, an index error, a
 * crash) fails the case. Counts are written to target/robustness/ for the report.
 */
final class Outcomes {
    private static final Map<String, AtomicLong> COUNTS = new TreeMap<>();

    private Outcomes() {
    }

    /** The documented failures of the public API. */
    static boolean documented(Throwable failure) {
        return failure instanceof IllegalArgumentException || failure instanceof IllegalStateException
                || failure instanceof dev.isthmus.io.FileFormatException || failure instanceof IOException
                || failure instanceof dev.isthmus.train.TrainingDivergedException
                || failure instanceof dev.isthmus.bindings.NativeLibraryException;
    }

    /**
     * Runs a case: success, or a documented exception whose message names {@code operation} (when
     * given). Returns "ok" or the exception's simple name, and counts it under {@code campaign}.
     */
    static String run(String campaign, String operation, Runnable action) {
        String outcome;
        try {
            action.run();
            outcome = "ok";
        } catch (RuntimeException failure) {
            if (!documented(failure)) {
                throw new AssertionError(campaign + ": undocumented " + failure.getClass().getName() + ": "
                        + failure.getMessage(), failure);
            }
            if (failure.getMessage() == null || failure.getMessage().isBlank()) {
                throw new AssertionError(campaign + ": " + failure.getClass().getSimpleName() + " without a message", failure);
            }
            if (operation != null && !failure.getMessage().contains(operation)) {
                throw new AssertionError(campaign + ": message does not name '" + operation + "': " + failure.getMessage(),
                        failure);
            }
            outcome = failure.getClass().getSimpleName();
        }
        count(campaign);
        return outcome;
    }

    static synchronized void count(String campaign) {
        COUNTS.computeIfAbsent(campaign, k -> new AtomicLong()).incrementAndGet();
    }

    static synchronized long total() {
        return COUNTS.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** Appends this JVM's counts to target/robustness/misuse-cases.txt. */
    static synchronized void write() throws IOException {
        Path folder = Path.of("target", "robustness");
        Files.createDirectories(folder);
        StringBuilder text = new StringBuilder();
        COUNTS.forEach((campaign, count) -> text.append(campaign).append(' ').append(count.get()).append('\n'));
        Files.writeString(folder.resolve("misuse-cases.txt"), text.toString());
    }
}
