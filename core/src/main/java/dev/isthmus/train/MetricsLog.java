package dev.isthmus.train;

import dev.isthmus.io.Json;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a run's metrics as JSON lines to {@code DIR/metrics.jsonl}, for charts and for anyone's
 * own tools (the shape of Lightning's CSV logs or a TensorBoard scalar stream, one object a line):
 * <ul>
 *   <li>{@code {"kind":"step", "epoch", "step", "loss", "learning_rate", "images_per_s"}} every
 *       {@code every} steps, {@code step} counted over the whole run and {@code images_per_s} over
 *       the steps since the previous line;</li>
 *   <li>{@code {"kind":"epoch", "epoch", "step", "train_loss", "train_accuracy", "test_loss",
 *       "test_accuracy", "learning_rate", "images_per_s", "seconds"}} after every epoch (the test
 *       figures null when there was no validation set).</li>
 * </ul>
 * A resumed run appends to the file, so its curves continue. Lines are flushed at every epoch's
 * end, so a run that stops early leaves every finished epoch on disk.
 */
public final class MetricsLog implements TrainingListener, AutoCloseable {
    /** The file name inside the log directory. */
    public static final String FILE_NAME = "metrics.jsonl";

    private final Path file;
    private final int every;
    private BufferedWriter writer;
    private long steps;
    private long sinceLastLine;
    private long imagesSinceLastLine;
    private long lastLineNanos;

    /**
     * A log in {@code directory} (created when missing) with a step line every {@code every} steps.
     *
     * @param directory the log directory
     * @param every how many steps between step lines, at least 1
     * @throws IllegalArgumentException when {@code every} is below 1 or the directory is a file
     */
    public MetricsLog(Path directory, int every) {
        if (directory == null) {
            throw new IllegalArgumentException("MetricsLog: the log directory must not be null");
        }
        if (every < 1) {
            throw new IllegalArgumentException("MetricsLog: a step line every " + every + " steps; it must be at least 1");
        }
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            throw new IllegalArgumentException("MetricsLog: " + directory + " exists and is not a directory");
        }
        this.file = directory.resolve(FILE_NAME);
        this.every = every;
    }

    /** {@return the metrics file this log writes} */
    public Path file() {
        return file;
    }

    @Override
    public void onTrainingBegin(Trainer trainer) {
        try {
            Files.createDirectories(file.getParent());
            writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: cannot open " + file + ": " + e.getMessage(), e);
        }
        steps = trainer.state().steps();
        lastLineNanos = System.nanoTime();
    }

    @Override
    public void onStep(Trainer trainer, StepResult step) {
        steps++;
        sinceLastLine++;
        imagesSinceLastLine += step.batchSize();
        if (sinceLastLine < every) {
            return;
        }
        long now = System.nanoTime();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("kind", "step");
        line.put("epoch", step.epoch());
        line.put("step", steps);
        line.put("loss", (double) step.loss());
        line.put("learning_rate", trainer.optimizer().learningRate());
        line.put("images_per_s", imagesSinceLastLine / Math.max(1e-9, (now - lastLineNanos) / 1e9));
        write(line);
        sinceLastLine = 0;
        imagesSinceLastLine = 0;
        lastLineNanos = now;
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochResult result) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("kind", "epoch");
        line.put("epoch", result.epoch());
        line.put("step", steps);
        line.put("train_loss", result.trainLoss());
        line.put("train_accuracy", result.trainAccuracy());
        Evaluation test = result.validation();
        line.put("test_loss", test == null ? null : test.loss());
        line.put("test_accuracy", test == null ? null : test.accuracy());
        // A segmentation's Dice; a classifier's lines keep their keys as they were.
        if (result.hasDice() || (test != null && test.hasDice())) {
            line.put("train_dice", result.hasDice() ? result.trainDice() : null);
            line.put("test_dice", test != null && test.hasDice() ? test.dice() : null);
        }
        line.put("learning_rate", result.learningRate());
        line.put("images_per_s", result.imagesPerSecond());
        line.put("seconds", result.seconds());
        write(line);
        try {
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void onTrainingEnd(Trainer trainer) {
        close();
    }

    private void write(Map<String, Object> line) {
        if (writer == null) {
            throw new IllegalStateException("metrics log: " + file + " is not open (the trainer has not begun)");
        }
        try {
            writer.write(Json.write(line));
            writer.newLine();
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Flushes and closes the file; idempotent. */
    @Override
    public void close() {
        if (writer != null) {
            try {
                writer.close();
            } catch (IOException e) {
                throw new UncheckedIOException("metrics log: cannot close " + file + ": " + e.getMessage(), e);
            } finally {
                writer = null;
            }
        }
    }
}
