package io.streamingllm.server.tools;

import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.server.json.JsonText;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code tools} as both APIs take them ({@code [{"type":"function","function":{name, description, parameters}}]})
 * and one call as each writes it.
 */
public final class ToolsJson {
    /** OpenAI's rule for function names, which upstreams enforce: refused here, before a turn starts. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private ToolsJson() {
    }

    /** The tools of a request; none when the field is absent or null. */
    public static List<ToolDefinition> definitions(JsonValue tools, Refusal refusal) {
        if (tools == null || tools.getValueType() == JsonValue.ValueType.NULL) {
            return List.of();
        }
        if (tools.getValueType() != JsonValue.ValueType.ARRAY) {
            throw refusal.refuse("tools", "tools must be an array of {type: function, function: {name, description, parameters}}");
        }
        List<ToolDefinition> out = new ArrayList<>();
        for (JsonValue t : tools.asJsonArray()) {
            String at = "tools[" + out.size() + "]";
            if (!(t instanceof JsonObject tool)) {
                throw refusal.refuse(at, at + " must be an object {type: function, function}");
            }
            if (tool.get("type") != null && !(tool.get("type") instanceof JsonString type && type.getString().equals("function"))) {
                throw refusal.refuse(at + ".type", at + ".type must be \"function\" (the only kind of tool)");
            }
            if (!(tool.get("function") instanceof JsonObject fn)) {
                throw refusal.refuse(at + ".function", at + ".function must be an object {name, description, parameters}");
            }
            if (!(fn.get("name") instanceof JsonString name) || !NAME.matcher(name.getString()).matches()) {
                throw refusal.refuse(at + ".function.name", at + ".function.name must be a string of 1 to 64 letters, "
                        + "digits, _, . or -");
            }
            JsonValue description = fn.get("description");
            if (description != null && description.getValueType() != JsonValue.ValueType.NULL
                    && !(description instanceof JsonString)) {
                throw refusal.refuse(at + ".function.description", at + ".function.description must be a string");
            }
            JsonObject parameters = parameters(fn.get("parameters"), at + ".function.parameters", refusal);
            if (out.stream().anyMatch(d -> d.name().equals(name.getString()))) {
                throw refusal.refuse(at + ".function.name", at + ".function.name " + name.getString() + " is offered twice");
            }
            out.add(new ToolDefinition(name.getString(), description instanceof JsonString d ? d.getString() : "", parameters));
        }
        return out;
    }

    /** A JSON schema of an object: an object whose {@code type}, when given, is "object". */
    private static JsonObject parameters(JsonValue v, String at, Refusal refusal) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return JsonValue.EMPTY_JSON_OBJECT;
        }
        if (!(v instanceof JsonObject schema)) {
            throw refusal.refuse(at, at + " must be a JSON schema object");
        }
        if (schema.get("type") != null && !(schema.get("type") instanceof JsonString type && type.getString().equals("object"))) {
            throw refusal.refuse(at + ".type", at + ".type must be \"object\": a tool's arguments are an object");
        }
        if (schema.get("properties") != null && !(schema.get("properties") instanceof JsonObject)) {
            throw refusal.refuse(at + ".properties", at + ".properties must be an object");
        }
        return schema;
    }

    /** Ollama's shape: {@code {"id","function":{"name","arguments":{…}}}}, the arguments an object. */
    public static void ollamaCall(StringBuilder out, ToolCall call) {
        out.append("{\"id\":");
        JsonText.quoteInto(out, call.id());
        out.append(",\"function\":{\"name\":");
        JsonText.quoteInto(out, call.name());
        out.append(",\"arguments\":").append(call.arguments()).append("}}");
    }

    /** OpenAI's whole shape: {@code {"id","type":"function","function":{"name","arguments":"…"}}}, the arguments a string. */
    public static void openAiCall(StringBuilder out, ToolCall call) {
        out.append("{\"id\":");
        JsonText.quoteInto(out, call.id());
        out.append(",\"type\":\"function\",\"function\":{\"name\":");
        JsonText.quoteInto(out, call.name());
        out.append(",\"arguments\":");
        JsonText.quoteInto(out, call.arguments());
        out.append("}}");
    }
}
