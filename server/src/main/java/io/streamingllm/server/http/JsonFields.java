package io.streamingllm.server.http;

import io.streamingllm.server.edge.ApiException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.List;
import java.util.Optional;

/**
 * Typed reads of the fields of a JSON object a client sent (a request body, a WebSocket frame, a nested
 * {@code options}). A field that is absent or JSON {@code null} is empty; one of the wrong type is an
 * {@link ApiException} 400 that names it as {@code label + key}, the label being how the API has always named
 * that object's fields in its messages: {@code "field "} ("field agent_id must be a string"), {@code "options."}
 * ("options.seed must be an integer") or nothing ("stream must be a boolean").
 */
public final class JsonFields {
    private final JsonObject object;
    private final String label;

    private JsonFields(JsonObject object, String label) {
        this.object = object;
        this.label = label;
    }

    public static JsonFields of(JsonObject object, String label) {
        return new JsonFields(object, label);
    }

    public Optional<String> string(String key) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof JsonString s)) {
            throw wrongType(key, "a string");
        }
        return Optional.of(s.getString());
    }

    public String requiredString(String key) {
        return string(key).orElseThrow(() -> ApiException.badRequest("missing " + label + key + " (a string)"));
    }

    public Optional<Boolean> bool(String key) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        return switch (v.getValueType()) {
            case TRUE -> Optional.of(true);
            case FALSE -> Optional.of(false);
            default -> throw wrongType(key, "a boolean");
        };
    }

    public Optional<Double> number(String key) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof JsonNumber n)) {
            throw wrongType(key, "a number");
        }
        return Optional.of(n.doubleValue());
    }

    /** A whole number ({@code 2}, not {@code 2.0}). */
    public Optional<Long> integer(String key) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof JsonNumber n) || !n.isIntegral()) {
            throw wrongType(key, "an integer");
        }
        return Optional.of(n.longValue());
    }

    /** A whole number from {@code min} to {@code max}. */
    public Optional<Integer> intInRange(String key, int min, int max) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof JsonNumber n) || !n.isIntegral() || n.longValue() < min || n.longValue() > max) {
            throw wrongType(key, "an integer from " + min + " to " + max);
        }
        return Optional.of(n.intValue());
    }

    /** One string or an array of strings. */
    public Optional<List<String>> strings(String key) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v instanceof JsonString s) {
            return Optional.of(List.of(s.getString()));
        }
        if (v.getValueType() == JsonValue.ValueType.ARRAY
                && v.asJsonArray().stream().allMatch(e -> e.getValueType() == JsonValue.ValueType.STRING)) {
            return Optional.of(v.asJsonArray().stream().map(e -> ((JsonString) e).getString()).toList());
        }
        throw wrongType(key, "a string or an array of strings");
    }

    public Optional<JsonObject> object(String key) {
        JsonValue v = present(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v.getValueType() != JsonValue.ValueType.OBJECT) {
            throw wrongType(key, "an object");
        }
        return Optional.of(v.asJsonObject());
    }

    /** The field's value, or null when it is absent or JSON null. */
    private JsonValue present(String key) {
        JsonValue v = object.get(key);
        return v == null || v.getValueType() == JsonValue.ValueType.NULL ? null : v;
    }

    private ApiException wrongType(String key, String expected) {
        return ApiException.badRequest(label + key + " must be " + expected);
    }
}
