package io.streamingllm.core.session;

/** What {@code GET /conversations/{id}} shows. {@code summaryRef} is null before the first eviction. */
public record ConversationInfo(String conversationId, String agentId, int turns, WindowState window,
                               String summaryRef) {
}
