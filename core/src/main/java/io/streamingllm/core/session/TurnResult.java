package io.streamingllm.core.session;

import io.streamingllm.core.engine.FinishReason;

/**
 * A finished turn, durable in the log.
 *
 * @param promptTokens     prompt tokens as the engine reported (or as estimated)
 * @param completionTokens generated tokens
 */
public record TurnResult(String conversationId, String text, FinishReason finishReason, int promptTokens,
                         int completionTokens, long totalNanos, long loadNanos, long promptEvalNanos,
                         long evalNanos) {
}
