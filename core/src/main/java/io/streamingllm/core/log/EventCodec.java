package io.streamingllm.core.log;

import jakarta.json.Json;
import jakarta.json.JsonBuilderFactory;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.json.JsonWriter;
import jakarta.json.JsonWriterFactory;

import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * The one mapping between an {@link Event} and its line in a conversation's log, used by the writer and by every
 * reader. A line is one compact JSON object without its newline:
 *
 * <table>
 *   <caption>Fields of an event line</caption>
 *   <tr><th>field</th><th>JSON type</th><th>value</th></tr>
 *   <tr><td>{@code id}</td><td>string</td><td>the event's id (time-ordered, see {@link EventIds})</td></tr>
 *   <tr><td>{@code conversation_id}</td><td>string</td><td>a valid id, the file's stem</td></tr>
 *   <tr><td>{@code type}</td><td>string</td><td>an {@link EventType} name</td></tr>
 *   <tr><td>{@code timestamp}</td><td>string</td><td>RFC 3339; written in UTC ({@code …Z}), any offset read</td></tr>
 *   <tr><td>{@code visibility}</td><td>string</td><td>{@code user} or {@code internal}</td></tr>
 *   <tr><td>{@code payload}</td><td>object</td><td>the type's fields; a missing or null payload reads as {}</td></tr>
 * </table>
 *
 * Stateless; safe from any thread (the JSON factories are looked up once, since
 * {@code Json.createObjectBuilder()} and friends look the provider up on every call).
 */
final class EventCodec {
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());
    private static final JsonBuilderFactory BUILDERS = Json.createBuilderFactory(Map.of());
    private static final JsonWriterFactory WRITERS = Json.createWriterFactory(Map.of());
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());

    private EventCodec() {
    }

    static JsonObject toJson(Event e) {
        return BUILDERS.createObjectBuilder()
                .add("id", e.id())
                .add("conversation_id", e.conversationId())
                .add("type", e.type().name())
                .add("timestamp", e.timestamp().toString())
                .add("visibility", e.visibility().wireName())
                .add("payload", e.payload())
                .build();
    }

    /** The event of a line's object; a missing or malformed field throws {@link IllegalArgumentException}. */
    static Event fromJson(JsonObject json) {
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

    /** The event's line, without the newline. */
    static String toLine(Event e) {
        StringWriter out = new StringWriter(256);
        try (JsonWriter w = WRITERS.createWriter(out)) {
            w.write(toJson(e));
        }
        return out.toString();
    }

    /** The event of one line (UTF-8, without its newline); anything else throws {@link IllegalArgumentException}. */
    static Event fromLine(byte[] line) {
        String text = new String(line, StandardCharsets.UTF_8);
        try (JsonReader r = READERS.createReader(new StringReader(text))) {
            return fromJson(r.readObject());
        } catch (JsonException | IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Like {@link #fromLine}, but a line that is not an event is logged as skipped and yields null (readers). */
    static Event fromLineOrSkip(byte[] line, Path file) {
        try {
            return fromLine(line);
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "event log {0}: skipping a malformed line: {1}", file, e.getMessage());
            return null;
        }
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
}
