package dev.isthmus.train;

import java.io.PrintStream;
import java.time.Duration;

/**
 * Training progress for people: on a terminal a bar redrawn in place (epoch, batch, loss, images/s,
 * ETA); otherwise, as in a log file or CI, a plain line every few seconds and one per epoch.
 */
public abstract class Progress {
    /** For subclasses. */
    protected Progress() {
    }

    /** Progress that prints nothing. */
    public static final Progress SILENT = new Progress() {
        @Override
        public void batch(Status status) {
        }

        @Override
        public void epochEnd(String summary) {
        }
    };

    /**
     * Where an epoch stands after a batch.
     *
     * @param epoch the epoch, from 1
     * @param epochs the epochs in the run
     * @param batch the batch within the epoch, from 1
     * @param batches the batches in the epoch
     * @param batchSize the samples per batch
     * @param loss the batch's mean loss
     * @param imagesPerSecond the samples processed per second
     */
    public record Status(int epoch, int epochs, int batch, int batches, int batchSize, double loss,
                         double imagesPerSecond) {
        /** Seconds until the epoch's last batch at the current rate. */
        double secondsLeft() {
            return imagesPerSecond > 0 ? (double) (batches - batch) * batchSize / imagesPerSecond : Double.NaN;
        }
    }

    /**
     * After each batch.
     *
     * @param status where the epoch stands
     */
    public abstract void batch(Status status);

    /**
     * At the end of an epoch, with its one-line summary.
     *
     * @param summary the epoch's one-line summary
     */
    public abstract void epochEnd(String summary);

    /**
     * A bar on a terminal, periodic lines (every 10 s) otherwise.
     *
     * @param out where the bar or lines go
     * @param terminal whether the output is an interactive terminal
     * @return a bar on a terminal, periodic lines (every 10 s) otherwise
     */
    public static Progress forOutput(PrintStream out, boolean terminal) {
        return terminal ? new Bar(out) : new Lines(out, 10_000_000_000L);
    }

    /**
     * Whether standard output is an interactive terminal.
     *
     * @return whether standard output is an interactive terminal
     */
    public static boolean standardOutputIsTerminal() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "--:--";
        }
        Duration d = Duration.ofSeconds(Math.round(seconds));
        return d.toHours() > 0 ? String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart())
                : String.format("%d:%02d", d.toMinutesPart(), d.toSecondsPart());
    }

    private static final class Bar extends Progress {
        private static final int WIDTH = 28;
        private final PrintStream out;
        private long lastDraw;

        Bar(PrintStream out) {
            this.out = out;
        }

        @Override
        public void batch(Status s) {
            long now = System.nanoTime();
            // Redrawing more than ten times a second only costs time.
            if (s.batch() != s.batches() && now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            int filled = (int) ((long) WIDTH * s.batch() / Math.max(1, s.batches()));
            String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
            out.printf("\repoch %d/%d [%s] %d/%d loss %.4f %,.0f img/s ETA %s ", s.epoch(), s.epochs(), bar, s.batch(),
                    s.batches(), s.loss(), s.imagesPerSecond(), duration(s.secondsLeft()));
            out.flush();
        }

        @Override
        public void epochEnd(String summary) {
            out.print("\r\033[K");
            out.println(summary);
        }
    }

    private static final class Lines extends Progress {
        private final PrintStream out;
        private final long intervalNanos;
        private long last = System.nanoTime();

        Lines(PrintStream out, long intervalNanos) {
            this.out = out;
            this.intervalNanos = intervalNanos;
        }

        @Override
        public void batch(Status s) {
            long now = System.nanoTime();
            if (now - last < intervalNanos || s.batch() == s.batches()) {
                return;
            }
            last = now;
            out.printf("epoch %d/%d batch %d/%d loss %.4f %,.0f img/s ETA %s%n", s.epoch(), s.epochs(), s.batch(),
                    s.batches(), s.loss(), s.imagesPerSecond(), duration(s.secondsLeft()));
        }

        @Override
        public void epochEnd(String summary) {
            out.println(summary);
        }
    }
}
