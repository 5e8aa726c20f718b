package dev.isthmus.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code isthmus summary unet-small} lists the U-Net's layers; {@code train} and {@code eval} run it on the generated shapes. */
class UNetCommandLineTest {
    @Test
    void summaryPrintsUNetSmall() {
        CommandLineTest.Run summary = CommandLineTest.run("summary", "unet-small", "--json");
        assertEquals(0, summary.status(), summary.err());
        assertEquals(121_051L, ((Number) summary.json().get("params")).longValue());
        assertTrue(summary.out().contains("skip.down.up") && summary.out().contains("ConvTranspose2d(16, 8, kernel=2x2, stride=2x2)")
                && summary.out().contains("[1, 3, 32, 32]"), summary.out());
    }

    /**
     * A short run on the generated shapes (32 images, 1 epoch) prints pixel accuracy and Dice in the
     * epoch line and at the end; --log-dir's metrics.jsonl has them; eval reads the checkpoint back.
     */
    @Test
    void trainsUNetSmallOnShapesPrintingDiceAndEvaluatesItsCheckpoint(@TempDir Path folder) throws java.io.IOException {
        Path checkpoint = folder.resolve("unet.safetensors");
        CommandLineTest.Run train = CommandLineTest.run("train", "unet-small", "--data", "shapes", "--synthetic-size", "32",
                "--epochs", "1", "--batch", "8", "--optimizer", "adam", "--lr", "0.003", "--checkpoint", checkpoint.toString(),
                "--log-dir", folder.toString());
        assertEquals(0, train.status(), train.out() + train.err());
        assertTrue(train.out().matches("(?s).*epoch 1: train loss \\d+\\.\\d+ pixel acc \\d+\\.\\d+% dice \\d\\.\\d+"
                + " \\| test loss \\d+\\.\\d+ pixel acc \\d+\\.\\d+% dice \\d\\.\\d+.*"), train.out());
        assertTrue(train.out().contains("test pixel accuracy: ") && train.out().contains(", Dice "), train.out());
        String metrics = Files.readString(folder.resolve("metrics.jsonl"));
        assertTrue(metrics.contains("\"train_dice\":") && metrics.contains("\"test_dice\":"), metrics);

        CommandLineTest.Run eval = CommandLineTest.run("eval", "unet-small", "--checkpoint", checkpoint.toString(), "--data",
                "shapes", "--json");
        assertEquals(0, eval.status(), eval.out() + eval.err());
        assertTrue(eval.out().contains("pixel accuracy") && eval.out().contains("on 128 images"), eval.out());
        assertTrue(((Number) eval.json().get("test_dice")).doubleValue() > 0, eval.out());
    }

    @Test
    void aSegmentationModelOnImagesWithOneClassEachIsRefusedSayingWhy() {
        CommandLineTest.Run train = CommandLineTest.run("train", "unet-small", "--data", "synthetic", "--synthetic-size", "16",
                "--epochs", "1", "--batch", "8");
        assertTrue(train.status() != 0, train.out());
        assertTrue(train.err().contains("unet-small is a segmentation model") && train.err().contains("--data shapes"),
                train.err());
        CommandLineTest.Run classifier = CommandLineTest.run("train", "vgg-small", "--data", "shapes", "--epochs", "1");
        assertTrue(classifier.status() != 0, classifier.out());
        assertTrue(classifier.err().contains("shapes has a class per pixel"), classifier.err());
    }
}
