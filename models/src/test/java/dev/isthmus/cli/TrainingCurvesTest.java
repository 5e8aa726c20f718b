package dev.isthmus.cli;

import dev.isthmus.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.isthmus.cli.CommandLineTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** train --log-dir writes the metrics as JSON lines and the curves as a PNG; isthmus plot redraws them. */
class TrainingCurvesTest {
    @Test
    void trainWritesMetricsAndChartAndPlotRedrawsIt(@TempDir Path folder) throws Exception {
        Path logs = folder.resolve("run");
        CommandLineTest.Run train = run("train", "mlp", "--data", "synthetic", "--synthetic-size", "640", "--epochs", "3",
                "--batch", "32", "--lr", "0.05", "--seed", "1", "--log-dir", logs.toString());
        assertEquals(0, train.status(), train.err());
        assertTrue(train.out().contains("training curves: " + logs.resolve("curves.png")), train.out());

        List<Map<String, Object>> lines = Files.readAllLines(logs.resolve("metrics.jsonl")).stream().map(Json::parseObject).toList();
        List<Map<String, Object>> epochs = lines.stream().filter(l -> "epoch".equals(l.get("kind"))).toList();
        List<Map<String, Object>> steps = lines.stream().filter(l -> "step".equals(l.get("kind"))).toList();
        assertEquals(3, epochs.size(), lines.toString());
        // 640 training samples of synthetic data at batch 32: a step line every 10 steps.
        long stepsPerEpoch = ((Number) epochs.getFirst().get("step")).longValue();
        assertEquals(3 * stepsPerEpoch, ((Number) epochs.getLast().get("step")).longValue());
        assertEquals(3 * stepsPerEpoch / 10, steps.size(), lines.toString());
        for (int e = 0; e < 3; e++) {
            Map<String, Object> epoch = epochs.get(e);
            assertEquals(e + 1, ((Number) epoch.get("epoch")).intValue());
            for (String key : List.of("train_loss", "train_accuracy", "test_loss", "test_accuracy", "learning_rate", "images_per_s")) {
                assertTrue(epoch.get(key) instanceof Number n && Double.isFinite(n.doubleValue()) && n.doubleValue() >= 0,
                        key + " in " + epoch);
            }
        }
        double firstLoss = ((Number) epochs.getFirst().get("train_loss")).doubleValue();
        double lastLoss = ((Number) epochs.getLast().get("train_loss")).doubleValue();
        assertTrue(lastLoss < firstLoss, "the logged loss falls: " + firstLoss + " -> " + lastLoss);
        for (Map<String, Object> step : steps) {
            assertTrue(((Number) step.get("step")).longValue() % 10 == 0, step.toString());
            assertTrue(((Number) step.get("loss")).doubleValue() > 0, step.toString());
            assertEquals(0.05, ((Number) step.get("learning_rate")).doubleValue(), 1e-12);
        }

        BufferedImage chart = ImageIO.read(logs.resolve("curves.png").toFile());
        assertNotNull(chart, "curves.png decodes as an image");
        assertEquals(1120, chart.getWidth());
        assertEquals(400, chart.getHeight());

        Files.delete(logs.resolve("curves.png"));
        CommandLineTest.Run plot = run("plot", logs.toString(), "--json");
        assertEquals(0, plot.status(), plot.err());
        assertEquals(3, ((Number) plot.json().get("epochs")).intValue());
        assertNotNull(ImageIO.read(logs.resolve("curves.png").toFile()));
    }

    @Test
    void plotWithoutMetricsSaysWhatToRun(@TempDir Path folder) {
        CommandLineTest.Run plot = run("plot", folder.toString());
        assertEquals(2, plot.status());
        assertTrue(plot.err().contains("metrics.jsonl does not exist") && plot.err().contains("--log-dir"), plot.err());
    }

    @Test
    void plotRefusesAGarbledLogNamingTheLine(@TempDir Path folder) throws Exception {
        Files.writeString(folder.resolve("metrics.jsonl"), "{\"kind\":\"epoch\",\"epoch\":1,\"train_loss\":1.0}\nnot json\n");
        CommandLineTest.Run plot = run("plot", folder.toString());
        assertEquals(2, plot.status());
        assertTrue(plot.err().contains("line 2"), plot.err());
    }
}
