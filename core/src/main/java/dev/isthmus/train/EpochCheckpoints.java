package dev.isthmus.train;

import dev.isthmus.io.Checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Writes a checkpoint (model, optimizer and training state) after every epoch, through
 * {@link Checkpoint#save}: a temporary file renamed into place, so an interrupted save leaves the
 * previous checkpoint whole. {@link Trainer#resume} continues from it.
 */
public final class EpochCheckpoints implements TrainingListener {
    private final Path file;

    public EpochCheckpoints(Path file) {
        if (file == null) {
            throw new IllegalArgumentException("EpochCheckpoints: a file is required");
        }
        this.file = file;
    }

    public Path file() {
        return file;
    }

    @Override
    public void onEpochEnd(Trainer trainer, EpochResult result) {
        try {
            Checkpoint.save(file, trainer.model(), trainer.optimizer(), trainer.state().toCheckpoint(trainer.config()));
        } catch (IOException failed) {
            throw new UncheckedIOException("could not write checkpoint " + file + ": " + failed.getMessage(), failed);
        }
    }
}
