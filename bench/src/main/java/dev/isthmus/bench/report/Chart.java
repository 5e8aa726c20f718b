package dev.isthmus.bench.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A bar chart of Isthmus / PyTorch per row with the parity line at 1.0, drawn with XChart (the
 * library the training curves use). Rows without a peer figure are left out.
 */
final class Chart {
    private Chart() {
    }

    static void write(List<BenchReport.Row> rows, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<String> labels = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (BenchReport.Row row : rows) {
            if (Double.isFinite(row.ratio())) {
                labels.add(row.model() + " " + row.mode() + " " + row.precision());
                ratios.add(row.ratio());
            }
        }
        if (labels.isEmpty()) {
            labels.add("no peer figures");
            ratios.add(0.0);
        }
        CategoryChart chart = new CategoryChartBuilder().width(Math.max(900, 90 * labels.size())).height(520)
                .title("Isthmus images/s ÷ PyTorch images/s (same machine, same sitting)")
                .xAxisTitle("model, mode, precision").yAxisTitle("ratio (above 1: Isthmus faster)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setXAxisLabelRotation(35);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setOverlapped(true);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        chart.addSeries("Isthmus ÷ PyTorch", labels, ratios).setFillColor(new java.awt.Color(46, 125, 50));
        List<Double> parity = new ArrayList<>();
        labels.forEach(label -> parity.add(1.0));
        CategorySeries line = chart.addSeries("parity (1.0)", labels, parity);
        line.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        line.setLineColor(java.awt.Color.BLACK);
        String base = file.toString().endsWith(".png") ? file.toString().substring(0, file.toString().length() - 4) : file.toString();
        BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
    }
}
