package io.streamingllm.core.recall;

/**
 * One message a search found.
 *
 * @param agentId null when the log did not record it
 * @param role    {@code user} or {@code assistant}
 * @param snippet the text around the first matching word (the start of the message when none is found)
 * @param score   BM25 score: higher is more relevant; comparable within one search only
 */
public record SearchHit(String eventId, String conversationId, String agentId, int turn, String role, String snippet,
                        float score) {
}
