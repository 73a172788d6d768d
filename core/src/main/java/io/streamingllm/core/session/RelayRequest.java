package io.streamingllm.core.session;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;

import java.util.List;

/**
 * An Ollama-style call that carries its own history: the window is applied to {@code messages}.
 *
 * @param messages       the whole chat as the client sent it (system messages form the sink)
 * @param conversationId when not null, the call is logged as a turn of this conversation
 * @param options        generation options; null for defaults
 */
public record RelayRequest(List<ChatMessage> messages, String conversationId, GenerationOptions options) {
}
