package io.streamingllm.core.session;

import io.streamingllm.core.session.payload.WindowState;

/** What {@code GET /conversations/{id}} shows. {@code summaryRef} is null before the first eviction. */
public record ConversationInfo(String conversationId, String agentId, int turns, WindowState window,
                               String summaryRef) {
}
