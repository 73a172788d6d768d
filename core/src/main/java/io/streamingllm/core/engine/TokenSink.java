package io.streamingllm.core.engine;

/** Receives text deltas as the engine produces them, on the engine's thread, in order. */
@FunctionalInterface
public interface TokenSink {
    void onToken(String delta);
}
