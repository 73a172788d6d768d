package io.streamingllm.server.metrics;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/** A Prometheus histogram over fixed bucket bounds (seconds). Thread-safe; recording is lock-free. */
public final class Histogram {
    private final String name;
    private final String help;
    private final double[] bounds;
    private final LongAdder[] counts;
    private final LongAdder sumNanos = new LongAdder();
    private final LongAdder total = new LongAdder();

    public Histogram(String name, String help, double... boundsSeconds) {
        this.name = name;
        this.help = help;
        this.bounds = boundsSeconds.clone();
        this.counts = new LongAdder[bounds.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void recordNanos(long nanos) {
        double seconds = nanos / 1e9;
        for (int i = 0; i < bounds.length; i++) {
            if (seconds <= bounds[i]) {
                counts[i].increment();
                break;
            }
        }
        sumNanos.add(nanos);
        total.increment();
    }

    void writeTo(StringBuilder out) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        long cumulative = 0;
        for (int i = 0; i < bounds.length; i++) {
            cumulative += counts[i].sum();
            out.append(name).append("_bucket{le=\"").append(format(bounds[i])).append("\"} ").append(cumulative)
                    .append('\n');
        }
        long n = total.sum();
        out.append(name).append("_bucket{le=\"+Inf\"} ").append(n).append('\n');
        out.append(name).append("_sum ").append(format(sumNanos.sum() / 1e9)).append('\n');
        out.append(name).append("_count ").append(n).append('\n');
    }

    private static String format(double d) {
        return String.format(Locale.ROOT, "%s", d);
    }
}
