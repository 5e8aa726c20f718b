package dev.isthmus.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code isthmus summary unet-small} lists the U-Net's layers; {@code train} stops with a reason rather than a crash. */
class UNetCommandLineTest {
    @Test
    void summaryPrintsUNetSmall() {
        CommandLineTest.Run summary = CommandLineTest.run("summary", "unet-small", "--json");
        assertEquals(0, summary.status(), summary.err());
        assertEquals(121_051L, ((Number) summary.json().get("params")).longValue());
        assertTrue(summary.out().contains("skip.down.up") && summary.out().contains("ConvTranspose2d(16, 8, kernel=2x2, stride=2x2)")
                && summary.out().contains("[1, 3, 32, 32]"), summary.out());
    }

    @Test
    void trainingASegmentationModelFromTheCommandLineStopsSayingWhy() {
        CommandLineTest.Run train = CommandLineTest.run("train", "unet-small", "--data", "synthetic", "--synthetic-size", "16",
                "--epochs", "1", "--batch", "8");
        assertEquals(1, train.status(), train.out());
        assertTrue(train.err().contains("[8, 32, 32]"), train.err());
    }
}
