/**
 * The Prometheus metrics ({@code /metrics}): streams active, tokens relayed, turns by outcome, time to first
 * token and the log's fsync latency, recorded lock-free by {@link io.streamingllm.server.metrics.TurnMeter} on the
 * engine's thread and by the event log.
 */
package io.streamingllm.server.metrics;
