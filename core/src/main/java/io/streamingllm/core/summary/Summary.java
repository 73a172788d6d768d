package io.streamingllm.core.summary;

/** A stored summary: markdown content and its {@code summary_ref} (SHA-256 hex of the content). */
public record Summary(String conversationId, String summaryRef, String content) {
}
