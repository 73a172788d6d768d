package io.streamingllm.core.session;

import io.streamingllm.core.engine.GenerationOptions;

/**
 * One user turn.
 *
 * @param conversationId existing or client-chosen id; null or {@code "new"} starts a new conversation
 * @param agentId        the agent whose sink (system prompt + context) frames the conversation
 * @param userMessage    the new user message
 * @param options        generation options (temperature, max_new_tokens, seed, stop); null for defaults
 */
public record TurnRequest(String conversationId, String agentId, String userMessage, GenerationOptions options) {
}
