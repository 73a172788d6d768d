package io.streamingllm.core.engine;

/**
 * Receives text deltas as the engine produces them, on the engine's thread, in order. It must return quickly
 * and never block: an engine may serve every stream from one thread (the Ollama engine calls all listeners on its
 * HTTP client's selector thread), so a listener that waits on a slow consumer should queue instead.
 */
@FunctionalInterface
public interface TokenListener {
    void onToken(String delta);

    /**
     * A whole tool call, in order with the text deltas (engines assemble streamed fragments first, so a call arrives
     * once with valid JSON arguments). The default ignores it, for listeners that only relay text.
     */
    default void onToolCall(ToolCall call) {
    }
}
