package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;

import java.util.List;
import java.util.Map;

/**
 * One way a client's turn goes through the sidecar to a fake upstream (WebSocket to Ollama, or OpenAI's /v1 to an
 * OpenAI-compatible server), and the same load sent straight to that upstream, the baseline for time to first token.
 */
interface RelayPath extends AutoCloseable {
    /** What the table calls it. */
    String name();

    /** The engine settings that point a sidecar at this path's fake upstream. */
    Map<String, String> sidecarEnv();

    /** Every later reply of the fake upstream: these tokens, {@code delayMs} before each. */
    void reply(List<String> tokens, int delayMs);

    /** The sessions of {@code s} calling the fake upstream directly. */
    Outcome direct(Scenario s) throws Exception;

    /** The sessions of {@code s} through the sidecar listening on {@code port}. */
    Outcome via(int port, Scenario s) throws Exception;

    @Override
    void close();
}
