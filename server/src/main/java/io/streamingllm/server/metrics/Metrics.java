package io.streamingllm.server.metrics;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The sidecar's Prometheus metrics: streams active, tokens relayed, time to first token, event-log fsync
 * latency. {@link #render()} writes the text exposition format.
 *
 * <p>Thread-safe; recording is lock-free.
 */
public final class Metrics {
    private static final double[] LATENCY_BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
            5, 10, 30};

    private final AtomicInteger streamsActive = new AtomicInteger();
    private final LongAdder tokensRelayed = new LongAdder();
    private final LongAdder turnsCompleted = new LongAdder();
    private final LongAdder turnsFailed = new LongAdder();
    private final LongAdder turnsCancelled = new LongAdder();
    private final Histogram ttft = new Histogram("streamingllm_time_to_first_token_seconds",
            "Time from accepting a turn to relaying its first token.", LATENCY_BOUNDS);
    private final Histogram fsync = new Histogram("streamingllm_event_log_fsync_seconds",
            "Time the event log spent writing and fsyncing its journal per group commit.", LATENCY_BOUNDS);

    public void streamStarted() {
        streamsActive.incrementAndGet();
    }

    public void streamEnded() {
        streamsActive.decrementAndGet();
    }

    public int streamsActive() {
        return streamsActive.get();
    }

    public void tokenRelayed() {
        tokensRelayed.increment();
    }

    public long tokensRelayed() {
        return tokensRelayed.sum();
    }

    public void firstToken(long nanosSinceStart) {
        ttft.recordNanos(nanosSinceStart);
    }

    public void logDurable(long nanos) {
        fsync.recordNanos(nanos);
    }

    public void turnCompleted() {
        turnsCompleted.increment();
    }

    public void turnFailed() {
        turnsFailed.increment();
    }

    public void turnCancelled() {
        turnsCancelled.increment();
    }

    public String render() {
        StringBuilder out = new StringBuilder(2048);
        gauge(out, "streamingllm_streams_active", "Token streams (turns) being relayed now.", streamsActive.get());
        counter(out, "streamingllm_tokens_relayed_total", "Token deltas relayed to clients.", tokensRelayed.sum());
        out.append("# HELP streamingllm_turns_total Turns finished, by outcome.\n");
        out.append("# TYPE streamingllm_turns_total counter\n");
        out.append("streamingllm_turns_total{outcome=\"completed\"} ").append(turnsCompleted.sum()).append('\n');
        out.append("streamingllm_turns_total{outcome=\"cancelled\"} ").append(turnsCancelled.sum()).append('\n');
        out.append("streamingllm_turns_total{outcome=\"failed\"} ").append(turnsFailed.sum()).append('\n');
        ttft.writeTo(out);
        fsync.writeTo(out);
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append(' ').append(value).append('\n');
    }
}
