package io.streamingllm.core.engine;

import java.util.List;

/**
 * The end of a generation.
 *
 * @param text             the whole generated text (the concatenated deltas)
 * @param finishReason     stop, length or cancelled (errors complete the future exceptionally with {@link EngineException})
 * @param promptTokens     prompt tokens the engine evaluated (Ollama {@code prompt_eval_count}); -1 if unknown
 * @param completionTokens generated tokens (Ollama {@code eval_count}); -1 if unknown
 * @param totalNanos       wall time of the whole call
 * @param loadNanos        model load time reported by the engine, 0 if none
 * @param promptEvalNanos  prompt evaluation time
 * @param evalNanos        generation time
 * @param promptTokensExact true when {@code promptTokens} counts exactly the prompt that was sent
 *                          (false e.g. when Ollama reused a cached prefix and reported fewer)
 * @param toolCalls        the tools the model called, in order (finish reason {@code tool_calls}); empty otherwise
 */
public record GenerationResult(String text, FinishReason finishReason, int promptTokens, int completionTokens,
                               long totalNanos, long loadNanos, long promptEvalNanos, long evalNanos,
                               boolean promptTokensExact, List<ToolCall> toolCalls) {
    public GenerationResult {
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** A result without tool calls. */
    public GenerationResult(String text, FinishReason finishReason, int promptTokens, int completionTokens,
                            long totalNanos, long loadNanos, long promptEvalNanos, long evalNanos,
                            boolean promptTokensExact) {
        this(text, finishReason, promptTokens, completionTokens, totalNanos, loadNanos, promptEvalNanos, evalNanos,
                promptTokensExact, List.of());
    }
}
