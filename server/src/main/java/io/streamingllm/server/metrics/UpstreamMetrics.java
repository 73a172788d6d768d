package io.streamingllm.server.metrics;

import io.streamingllm.core.engine.pool.UpstreamStatus;

import java.util.List;
import java.util.Locale;

/**
 * Per-upstream metrics of a pool, labelled {@code upstream="URL"}: up, streams active, streams and failures so far,
 * and time to first token as a summary (sum and count), for the Prometheus text format.
 */
final class UpstreamMetrics {
    private UpstreamMetrics() {
    }

    static void writeTo(StringBuilder out, List<UpstreamStatus> upstreams) {
        family(out, "streamingllm_upstream_up", "gauge", "1 while the upstream takes turns, 0 while it is taken out.",
                upstreams, u -> u.up() ? "1" : "0");
        family(out, "streamingllm_upstream_streams_active", "gauge", "Generations running on the upstream now.",
                upstreams, u -> Integer.toString(u.streamsActive()));
        family(out, "streamingllm_upstream_streams_total", "counter", "Generations started on the upstream.",
                upstreams, u -> Long.toString(u.streamsTotal()));
        family(out, "streamingllm_upstream_failures_total", "counter",
                "Calls that failed on the upstream (cannot connect, 5xx, dropped stream).", upstreams,
                u -> Long.toString(u.failures()));
        String ttft = "streamingllm_upstream_time_to_first_token_seconds";
        out.append("# HELP ").append(ttft).append(" Time from sending a generation to the upstream to its first token.\n");
        out.append("# TYPE ").append(ttft).append(" summary\n");
        for (UpstreamStatus u : upstreams) {
            out.append(ttft).append("_sum").append(label(u)).append(' ')
                    .append(String.format(Locale.ROOT, "%s", u.firstTokenNanos() / 1e9)).append('\n');
            out.append(ttft).append("_count").append(label(u)).append(' ').append(u.firstTokens()).append('\n');
        }
    }

    private interface Value {
        String of(UpstreamStatus u);
    }

    private static void family(StringBuilder out, String name, String type, String help, List<UpstreamStatus> upstreams,
                               Value value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (UpstreamStatus u : upstreams) {
            out.append(name).append(label(u)).append(' ').append(value.of(u)).append('\n');
        }
    }

    /** The label value escaped as the exposition format asks (backslash, quote, newline). */
    private static String label(UpstreamStatus u) {
        String v = u.name().replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
        return "{upstream=\"" + v + "\"}";
    }
}
