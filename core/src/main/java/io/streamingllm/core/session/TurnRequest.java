package io.streamingllm.core.session;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;

import java.util.List;

/**
 * One user turn, or the continuation of a turn whose reply called tools.
 *
 * @param conversationId existing or client-chosen id; null or {@code "new"} starts a new conversation
 * @param agentId        the agent whose sink (system prompt + context) and tools frame the conversation
 * @param userMessage    the new user message; empty for a continuation
 * @param options        generation options (temperature, max_new_tokens, seed, stop); null for defaults
 * @param toolResults    the results of the calls the conversation's last reply made ({@link ChatMessage#toolResult},
 *                       the call's id and the content; the tool's name is filled in from the call), one per call;
 *                       empty for a user turn
 */
public record TurnRequest(String conversationId, String agentId, String userMessage, GenerationOptions options,
                          List<ChatMessage> toolResults) {
    public TurnRequest {
        toolResults = toolResults == null ? List.of() : List.copyOf(toolResults);
    }

    /** A user turn. */
    public TurnRequest(String conversationId, String agentId, String userMessage, GenerationOptions options) {
        this(conversationId, agentId, userMessage, options, List.of());
    }

    /** Whether this continues a turn with tool results rather than saying something new. */
    public boolean continuation() {
        return !toolResults.isEmpty();
    }
}
