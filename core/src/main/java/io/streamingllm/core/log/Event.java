package io.streamingllm.core.log;

import jakarta.json.JsonObject;

import java.time.Instant;

/**
 * One line of a conversation's JSONL log:
 * {@code {id, conversation_id, type, timestamp (RFC 3339 UTC), visibility, payload}}.
 */
public record Event(String id, String conversationId, EventType type, Instant timestamp, Visibility visibility,
                    JsonObject payload) {
    // TODO(issue 2): factory with a fresh id and timestamp, toJson()/fromJson()
}
