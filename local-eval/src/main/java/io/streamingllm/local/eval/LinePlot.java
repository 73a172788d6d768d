package io.streamingllm.local.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** A small line chart drawn headless with Java2D and written as PNG: linear x, linear or log10 y. */
public final class LinePlot {
    public record Series(String name, double[] x, double[] y, Color color, boolean dashed) {
    }

    private static final int W = 1100, H = 620, LEFT = 80, RIGHT = 270, TOP = 50, BOTTOM = 60;
    private final String title, xLabel, yLabel;
    private final boolean logY;
    private final List<Series> series = new ArrayList<>();

    public LinePlot(String title, String xLabel, String yLabel, boolean logY) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logY = logY;
    }

    public LinePlot add(Series s) {
        series.add(s);
        return this;
    }

    public void write(Path file) throws IOException {
        double xMin = Double.MAX_VALUE, xMax = -Double.MAX_VALUE, yMin = Double.MAX_VALUE, yMax = -Double.MAX_VALUE;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                double y = s.y()[i];
                if (Double.isNaN(y) || (logY && y <= 0)) {
                    continue;
                }
                xMin = Math.min(xMin, s.x()[i]);
                xMax = Math.max(xMax, s.x()[i]);
                yMin = Math.min(yMin, ty(y));
                yMax = Math.max(yMax, ty(y));
            }
        }
        if (xMin > xMax) {
            xMin = 0;
            xMax = 1;
            yMin = 0;
            yMax = 1;
        }
        if (logY) {
            yMin = Math.floor(yMin * 10) / 10;
            yMax = Math.ceil(yMax * 10) / 10;
        } else {
            double pad = (yMax - yMin) * 0.05 + 1e-9;
            yMin -= pad;
            yMax += pad;
        }
        if (yMax - yMin < 1e-9) {
            yMax = yMin + 1;
        }
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.setColor(Color.BLACK);
        g.drawString(title, LEFT, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        // grid and ticks
        for (double yv : yTicks(yMin, yMax)) {
            int py = TOP + (int) Math.round(ph * (1 - (yv - yMin) / (yMax - yMin)));
            g.setColor(new Color(225, 225, 225));
            g.drawLine(LEFT, py, LEFT + pw, py);
            g.setColor(Color.DARK_GRAY);
            String label = format(logY ? Math.pow(10, yv) : yv);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), py + 5);
        }
        for (double xv : niceTicks(xMin, xMax, 8)) {
            int px = LEFT + (int) Math.round(pw * (xv - xMin) / (xMax - xMin));
            g.setColor(new Color(225, 225, 225));
            g.drawLine(px, TOP, px, TOP + ph);
            g.setColor(Color.DARK_GRAY);
            String label = format(xv);
            g.drawString(label, px - g.getFontMetrics().stringWidth(label) / 2, TOP + ph + 20);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, pw, ph);
        g.drawString(xLabel, LEFT + pw / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, H - 15);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        gy.drawString(yLabel + (logY ? " (log scale)" : ""), -(TOP + ph / 2) - 60, 20);
        gy.dispose();
        // lines and legend
        int legendY = TOP + 10;
        for (Series s : series) {
            g.setColor(s.color());
            g.setStroke(s.dashed()
                    ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {7f, 5f}, 0f)
                    : new BasicStroke(2f));
            Path2D.Double path = new Path2D.Double();
            boolean open = false;
            for (int i = 0; i < s.x().length; i++) {
                double y = s.y()[i];
                if (Double.isNaN(y) || (logY && y <= 0)) {
                    open = false;
                    continue;
                }
                double px = LEFT + pw * (s.x()[i] - xMin) / (xMax - xMin);
                double py = TOP + ph * (1 - (ty(y) - yMin) / (yMax - yMin));
                if (open) {
                    path.lineTo(px, py);
                } else {
                    path.moveTo(px, py);
                    open = true;
                }
            }
            g.draw(path);
            g.drawLine(LEFT + pw + 15, legendY, LEFT + pw + 45, legendY);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), LEFT + pw + 52, legendY + 5);
            legendY += 22;
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private double ty(double y) {
        return logY ? Math.log10(y) : y;
    }

    private List<Double> yTicks(double min, double max) {
        if (!logY) {
            return niceTicks(min, max, 8);
        }
        List<Double> ticks = new ArrayList<>();
        for (int e = (int) Math.floor(min); e <= Math.ceil(max); e++) {
            for (int m : new int[] {1, 2, 5}) {
                double v = e + Math.log10(m);
                if (v >= min && v <= max) {
                    ticks.add(v);
                }
            }
        }
        if (ticks.size() < 3) {
            return niceTicks(min, max, 6);
        }
        return ticks;
    }

    private static List<Double> niceTicks(double min, double max, int count) {
        double raw = (max - min) / count;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3 ? 2 * mag : raw / mag < 7 ? 5 * mag : 10 * mag;
        List<Double> ticks = new ArrayList<>();
        for (double v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) {
            ticks.add(v);
        }
        return ticks;
    }

    private static String format(double v) {
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format("%,.0f", v);
        }
        if (a >= 10 || v == Math.rint(v)) {
            return String.format("%.0f", v);
        }
        if (a >= 1) {
            return String.format("%.1f", v);
        }
        return String.format("%.2g", v);
    }
}
