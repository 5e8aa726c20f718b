package dev.isthmus.cli;

import dev.isthmus.io.Json;
import dev.isthmus.train.MetricsLog;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training curves of a log directory ({@link MetricsLog}'s {@code metrics.jsonl}) as one PNG,
 * drawn with XChart: loss per epoch (train and test) beside accuracy per epoch (train and test).
 * When a resumed run repeated an epoch, its last record counts.
 */
final class TrainingChart {
    static final String FILE_NAME = "curves.png";

    private TrainingChart() {
    }

    /** One epoch's figures from the log; test figures NaN when the run had no test set. */
    record EpochPoint(int epoch, double trainLoss, double trainAccuracy, double testLoss, double testAccuracy) {
    }

    /** Reads the epoch lines of {@code directory/metrics.jsonl}, in epoch order. */
    static List<EpochPoint> read(Path directory) throws IOException {
        Path file = directory.resolve(MetricsLog.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new UsageException("plot: " + file + " does not exist (train with --log-dir " + directory + " writes it)");
        }
        Map<Integer, EpochPoint> epochs = new java.util.TreeMap<>();
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> record;
            try {
                record = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new UsageException("plot: " + file + " line " + lineNumber + " is not a JSON object: " + e.getMessage());
            }
            if ("epoch".equals(record.get("kind"))) {
                int epoch = (int) number(record, "epoch");
                epochs.put(epoch, new EpochPoint(epoch, number(record, "train_loss"), number(record, "train_accuracy"),
                        number(record, "test_loss"), number(record, "test_accuracy")));
            }
        }
        if (epochs.isEmpty()) {
            throw new UsageException("plot: " + file + " holds no finished epoch yet");
        }
        return new ArrayList<>(epochs.values());
    }

    /** Draws the chart of {@code directory}'s log into {@code directory/curves.png} and returns that path. */
    static Path draw(Path directory, String title) throws IOException {
        List<EpochPoint> points = read(directory);
        XYChart loss = chart(title + ": loss", "loss", Styler.LegendPosition.InsideNE);
        // Accuracy rises to the top right, where a legend would cover it.
        XYChart accuracy = chart(title + ": accuracy", "accuracy (%)", Styler.LegendPosition.InsideSE);
        add(loss, "train", points, EpochPoint::trainLoss, 1);
        add(loss, "test", points, EpochPoint::testLoss, 1);
        add(accuracy, "train", points, EpochPoint::trainAccuracy, 100);
        add(accuracy, "test", points, EpochPoint::testAccuracy, 100);
        Path png = directory.resolve(FILE_NAME);
        System.setProperty("java.awt.headless", "true");
        // saveBitmap appends the extension itself.
        String base = png.toString().substring(0, png.toString().length() - ".png".length());
        BitmapEncoder.saveBitmap(List.of(loss, accuracy), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
        return png;
    }

    private static XYChart chart(String title, String yTitle, Styler.LegendPosition legend) {
        XYChart chart = new XYChartBuilder().width(560).height(400).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(legend);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setXAxisDecimalPattern("0");
        return chart;
    }

    private static void add(XYChart chart, String name, List<EpochPoint> points,
                            java.util.function.ToDoubleFunction<EpochPoint> value, double scale) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (EpochPoint point : points) {
            double v = value.applyAsDouble(point);
            if (Double.isFinite(v)) {
                x.add((double) point.epoch());
                y.add(v * scale);
            }
        }
        if (!x.isEmpty()) {
            XYSeries series = chart.addSeries(name, x, y);
            series.setMarker(SeriesMarkers.CIRCLE);
        }
    }

    private static double number(Map<String, Object> record, String key) {
        return record.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
