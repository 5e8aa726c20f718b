package dev.isthmus.bench.report;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A bar chart of Isthmus / PyTorch per row, with the parity line at 1.0 (drawn headless with java.awt). */
final class Chart {
    private Chart() {
    }

    static void write(List<BenchReport.Row> rows, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int rowHeight = 34;
        int left = 230;
        int width = 900;
        int height = 70 + rowHeight * Math.max(1, rows.size());
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double maxRatio = Math.max(2.0, rows.stream().mapToDouble(BenchReport.Row::ratio).filter(Double::isFinite).max().orElse(2));
        double scale = (width - left - 60) / maxRatio;
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("Isthmus images/s ÷ PyTorch images/s (same machine, same sitting)", 12, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int i = 0; i < rows.size(); i++) {
            BenchReport.Row row = rows.get(i);
            int y = 45 + i * rowHeight;
            g.setColor(Color.DARK_GRAY);
            g.drawString(row.model() + " " + row.mode() + " " + row.precision() + " (batch " + row.batch() + ")", 12, y + 20);
            double ratio = row.ratio();
            if (Double.isFinite(ratio)) {
                g.setColor(ratio >= 1 ? new Color(46, 125, 50) : new Color(198, 40, 40));
                g.fillRect(left, y + 6, (int) (ratio * scale), rowHeight - 12);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format("%.2f", ratio), left + (int) (ratio * scale) + 6, y + 22);
            }
        }
        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        int parity = left + (int) scale;
        g.drawLine(parity, 38, parity, height - 8);
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }
}
