package io.streamingllm.core.log;

import io.streamingllm.core.Ids;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One line of a conversation's JSONL log:
 * {@code {id, conversation_id, type, timestamp (RFC 3339 UTC), visibility, payload}}.
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

    public JsonObject toJson() {
        return Json.createObjectBuilder()
                .add("id", id)
                .add("conversation_id", conversationId)
                .add("type", type.name())
                .add("timestamp", timestamp.toString())
                .add("visibility", visibility.wireName())
                .add("payload", payload)
                .build();
    }

    /** Parses one log line's object; a missing or malformed field throws {@link IllegalArgumentException}. */
    public static Event fromJson(JsonObject json) {
        if (json == null) {
            throw new IllegalArgumentException("event: expected a JSON object, got null");
        }
        String id = string(json, "id");
        String conversationId = string(json, "conversation_id");
        String typeName = string(json, "type");
        EventType type;
        try {
            type = EventType.valueOf(typeName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("event " + id + ": unknown type \"" + typeName + "\"");
        }
        Instant timestamp = instant(id, string(json, "timestamp"));
        Visibility visibility = Visibility.fromWire(string(json, "visibility"));
        JsonValue payload = json.get("payload");
        if (payload != null && payload.getValueType() != JsonValue.ValueType.OBJECT
                && payload.getValueType() != JsonValue.ValueType.NULL) {
            throw new IllegalArgumentException("event " + id + ": payload must be an object, got "
                    + payload.getValueType());
        }
        JsonObject payloadObject = payload instanceof JsonObject o ? o : JsonValue.EMPTY_JSON_OBJECT;
        return new Event(id, conversationId, type, timestamp, visibility, payloadObject);
    }

    private static String string(JsonObject json, String field) {
        JsonValue v = json.get(field);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            throw new IllegalArgumentException("event: missing field \"" + field + "\"");
        }
        if (!(v instanceof JsonString s)) {
            throw new IllegalArgumentException("event: field \"" + field + "\" must be a string, got " + v.getValueType());
        }
        return s.getString();
    }

    private static Instant instant(String id, String raw) {
        try {
            return Instant.parse(raw);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(raw).toInstant();
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("event " + id + ": timestamp \"" + raw + "\" is not RFC 3339");
            }
        }
    }

    /**
     * UUIDv7-style ids: 48 bits of Unix milliseconds, then a per-millisecond sequence, then random bits.
     * They sort by creation time as strings, which keeps logs and listings readable.
     */
    static final class EventIds {
        private static final AtomicLong LAST = new AtomicLong();

        private EventIds() {
        }

        static String next() {
            long now = System.currentTimeMillis();
            // high 48 bits: millis; low 12 bits: sequence within the millisecond (borrowing the next ms on overflow)
            long stamp = LAST.updateAndGet(prev -> {
                long candidate = now << 12;
                return candidate > prev ? candidate : prev + 1;
            });
            long millis = stamp >>> 12;
            long seq = stamp & 0xFFF;
            long msb = (millis << 16) | 0x7000L | seq;
            long lsb = (ThreadLocalRandom.current().nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
            return new java.util.UUID(msb, lsb).toString();
        }
    }
}
