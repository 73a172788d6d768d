package io.streamingllm.bench;

import java.util.List;
import java.util.Locale;

/**
 * A small SVG line chart (no plotting library): categorical x values evenly spaced, y from 0 to 100, one
 * polyline with point markers per series, a legend. Enough for the evaluation reports under docs/.
 */
final class SvgChart {
    private static final int W = 720;
    private static final int H = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 230;
    private static final int TOP = 50;
    private static final int BOTTOM = 60;

    private SvgChart() {
    }

    static String lines(String title, String xLabel, String yLabel, List<Integer> xs, List<double[]> series,
                        List<String> names, List<String> colours) {
        int plotW = W - LEFT - RIGHT;
        int plotH = H - TOP - BOTTOM;
        StringBuilder s = new StringBuilder();
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" font-family=\"sans-serif\" font-size=\"13\">\n");
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append(text(W / 2.0, 28, title, "middle", 16));
        for (int y = 0; y <= 100; y += 20) {
            double py = TOP + plotH - plotH * y / 100.0;
            s.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", LEFT, py, LEFT + plotW, py));
            s.append(text(LEFT - 8, py + 4, String.valueOf(y), "end", 12));
        }
        for (int i = 0; i < xs.size(); i++) {
            double px = x(i, xs.size(), plotW);
            s.append(text(px, TOP + plotH + 20, String.format(Locale.ROOT, "%,d", xs.get(i)), "middle", 12));
        }
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#888\"/>\n", LEFT, TOP, plotW, plotH));
        s.append(text(LEFT + plotW / 2.0, H - 15, xLabel, "middle", 13));
        s.append(String.format(Locale.ROOT, "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 18 %.1f)\">%s</text>\n", TOP + plotH / 2.0, TOP + plotH / 2.0, escape(yLabel)));
        for (int k = 0; k < series.size(); k++) {
            double[] ys = series.get(k);
            StringBuilder points = new StringBuilder();
            for (int i = 0; i < ys.length; i++) {
                double px = x(i, ys.length, plotW);
                double py = TOP + plotH - plotH * ys[i] / 100.0;
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", px, py,
                        colours.get(k)));
            }
            s.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
                    + "stroke-width=\"2.5\"/>\n", points.toString().strip(), colours.get(k)));
            double ly = TOP + 20 + k * 24;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                    + "stroke-width=\"3\"/>\n", LEFT + plotW + 15, ly, LEFT + plotW + 40, ly, colours.get(k)));
            s.append(text(LEFT + plotW + 47, ly + 4, names.get(k), "start", 12));
        }
        return s.append("</svg>\n").toString();
    }

    private static double x(int i, int n, int plotW) {
        return n == 1 ? LEFT + plotW / 2.0 : LEFT + 20 + (plotW - 40) * i / (double) (n - 1);
    }

    private static String text(double x, double y, String text, String anchor, int size) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>\n",
                x, y, anchor, size, escape(text));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
