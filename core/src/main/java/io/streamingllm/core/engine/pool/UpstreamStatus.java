package io.streamingllm.core.engine.pool;

/**
 * One upstream as {@code /readyz} and {@code /metrics} show it.
 *
 * @param name             the upstream's URL as configured
 * @param up               true while it takes turns; false while taken out (it is probed with backoff)
 * @param streamsActive    generations running on it now
 * @param streamsTotal     generations started on it
 * @param failures         calls that failed on it (connect failures, 5xx, dropped streams)
 * @param firstTokens      generations that produced a first token
 * @param firstTokenNanos  summed time from sending to the first token, over {@code firstTokens}
 * @param detail           why it is down (the last failure or probe), or its last probe's message
 */
public record UpstreamStatus(String name, boolean up, int streamsActive, long streamsTotal, long failures,
                             long firstTokens, long firstTokenNanos, String detail) {
}
