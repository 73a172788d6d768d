package io.streamingllm.core.log;

import io.streamingllm.core.Ids;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import java.time.Instant;
import java.util.Objects;

/**
 * One line of a conversation's JSONL log:
 * {@code {id, conversation_id, type, timestamp (RFC 3339 UTC), visibility, payload}} (see {@link EventCodec}).
 */
public record Event(String id, String conversationId, EventType type, Instant timestamp, Visibility visibility,
                    JsonObject payload) {
    public Event {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("event id is blank");
        }
        Ids.require("conversation", conversationId);
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(visibility, "visibility");
        payload = payload == null ? JsonValue.EMPTY_JSON_OBJECT : payload;
    }

    /** A new event with a fresh, time-ordered unique id and the current time. */
    public static Event create(String conversationId, EventType type, Visibility visibility, JsonObject payload) {
        return new Event(EventIds.next(), conversationId, type, Instant.now(), visibility, payload);
    }

    /** The event as its log line's object. */
    public JsonObject toJson() {
        return EventCodec.toJson(this);
    }

    /** Parses one log line's object; a missing or malformed field throws {@link IllegalArgumentException}. */
    public static Event fromJson(JsonObject json) {
        return EventCodec.fromJson(json);
    }
}
