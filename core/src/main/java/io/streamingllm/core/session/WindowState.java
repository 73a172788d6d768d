package io.streamingllm.core.session;

/** Where a conversation's prompt stands: tokens of each part and how many turns left the window. */
public record WindowState(int sinkTokens, int summaryTokens, int recentTokens, int evictedTurns) {
}
