package dev.isthmus.train;

import dev.isthmus.io.Checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a checkpoint (model, optimizer and training state) after every epoch, through
 * {@link Checkpoint#save}: a temporary file renamed into place, so an interrupted save leaves the
 * previous checkpoint whole. {@link Trainer#resume} continues from it.
 */
public final class EpochCheckpoints implements TrainingListener {
    private final Path file;
    private final Map<String, String> metadata;

    /**
     * Saves to {@code file} after every epoch.
     *
     * @param file the file
     */
    public EpochCheckpoints(Path file) {
        this(file, Map.of());
    }

    /**
     * Saves to {@code file} after every epoch, with more metadata.
     *
     * @param metadata more safetensors metadata entries written into every checkpoint, such as
     * @param file the file
     *                 {@link dev.isthmus.io.InputMetadata#toMetadata()}'s class names and preprocessing
     */
    public EpochCheckpoints(Path file, Map<String, String> metadata) {
        if (file == null || metadata == null) {
            throw new IllegalArgumentException("EpochCheckpoints: a file and metadata (maybe empty) are required");
        }
        this.file = file;
        // Insertion order kept: the same run writes the same bytes.
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** {@return the checkpoint file} */
    public Path file() {
        return file;
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochResult result) {
        try {
            Checkpoint.save(file, trainer.model(), trainer.optimizer(), trainer.checkpointState(), metadata);
        } catch (IOException failed) {
            throw new UncheckedIOException("could not write checkpoint " + file + ": " + failed.getMessage(), failed);
        }
    }
}
