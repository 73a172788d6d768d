package io.streamingllm.core.engine;

import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

/**
 * The shape a generation's text must have: free text, any JSON object, or a JSON value matching a JSON
 * schema. The wire forms are Ollama's {@code format} and OpenAI's {@code response_format}:
 *
 * <table>
 * <caption>Wire forms</caption>
 * <tr><th>API</th><th>field</th><th>{@link Type}</th></tr>
 * <tr><td>Ollama</td><td>absent, {@code null} or {@code ""}</td><td>NONE</td></tr>
 * <tr><td>Ollama</td><td>{@code "json"}</td><td>JSON</td></tr>
 * <tr><td>Ollama</td><td>a JSON schema object</td><td>JSON_SCHEMA</td></tr>
 * <tr><td>OpenAI</td><td>absent, {@code null} or {@code {"type":"text"}}</td><td>NONE</td></tr>
 * <tr><td>OpenAI</td><td>{@code {"type":"json_object"}}</td><td>JSON</td></tr>
 * <tr><td>OpenAI</td><td>{@code {"type":"json_schema","json_schema":{"name":…,"schema":{…},"strict":…}}}</td><td>JSON_SCHEMA</td></tr>
 * </table>
 *
 * <p>Whether an engine can enforce a schema is the engine's call ({@link ModelEngine#requireSupported}).
 *
 * @param schema the schema for {@link Type#JSON_SCHEMA}, null otherwise
 */
public record ResponseFormat(Type type, JsonObject schema) {
    public enum Type {
        /** Free text. */
        NONE,
        /** A JSON object, any content (Ollama {@code "json"}, OpenAI {@code json_object}). */
        JSON,
        /** A JSON value valid against {@link ResponseFormat#schema()}. */
        JSON_SCHEMA
    }

    public static final ResponseFormat NONE = new ResponseFormat(Type.NONE, null);
    public static final ResponseFormat JSON = new ResponseFormat(Type.JSON, null);

    public ResponseFormat {
        if (type == null) {
            throw new IllegalArgumentException("response format type is required");
        }
        if ((type == Type.JSON_SCHEMA) != (schema != null)) {
            throw new IllegalArgumentException("a schema goes with JSON_SCHEMA and only with it");
        }
    }

    public static ResponseFormat schema(JsonObject schema) {
        return new ResponseFormat(Type.JSON_SCHEMA, schema);
    }

    /** True unless free text. */
    public boolean constrained() {
        return type != Type.NONE;
    }

    /**
     * Ollama's {@code format}: null/absent, {@code ""}, {@code "json"} or a schema object;
     * {@link IllegalArgumentException} naming the problem otherwise.
     */
    public static ResponseFormat fromOllama(JsonValue format) {
        if (format == null || format.getValueType() == JsonValue.ValueType.NULL) {
            return NONE;
        }
        if (format instanceof JsonString s) {
            return switch (s.getString()) {
                case "" -> NONE;
                case "json" -> JSON;
                default -> throw new IllegalArgumentException("format must be \"json\" or a JSON schema object, got \""
                        + s.getString() + "\"");
            };
        }
        if (format.getValueType() == JsonValue.ValueType.OBJECT) {
            return schema(format.asJsonObject());
        }
        throw new IllegalArgumentException("format must be \"json\" or a JSON schema object");
    }

    /**
     * OpenAI's {@code response_format}: null/absent, {@code {"type":"text"}}, {@code {"type":"json_object"}} or
     * {@code {"type":"json_schema","json_schema":{"schema":{…}}}}; {@link IllegalArgumentException} otherwise.
     */
    public static ResponseFormat fromOpenAi(JsonValue responseFormat) {
        if (responseFormat == null || responseFormat.getValueType() == JsonValue.ValueType.NULL) {
            return NONE;
        }
        if (responseFormat.getValueType() != JsonValue.ValueType.OBJECT) {
            throw new IllegalArgumentException("response_format must be an object such as {\"type\":\"json_object\"}");
        }
        JsonObject o = responseFormat.asJsonObject();
        String type = o.get("type") instanceof JsonString s ? s.getString() : null;
        if (type == null) {
            throw new IllegalArgumentException("response_format.type must be text, json_object or json_schema");
        }
        return switch (type) {
            case "text" -> NONE;
            case "json_object" -> JSON;
            case "json_schema" -> {
                JsonValue spec = o.get("json_schema");
                if (spec == null || spec.getValueType() != JsonValue.ValueType.OBJECT) {
                    throw new IllegalArgumentException("response_format.json_schema must be an object {name, schema}");
                }
                JsonValue schema = spec.asJsonObject().get("schema");
                if (schema == null || schema.getValueType() == JsonValue.ValueType.NULL) {
                    yield schema(JsonValue.EMPTY_JSON_OBJECT); // OpenAI: no schema means any JSON
                }
                if (schema.getValueType() != JsonValue.ValueType.OBJECT) {
                    throw new IllegalArgumentException("response_format.json_schema.schema must be a JSON schema object");
                }
                yield schema(schema.asJsonObject());
            }
            default -> throw new IllegalArgumentException("response_format.type must be text, json_object or json_schema, got "
                    + type);
        };
    }
}
