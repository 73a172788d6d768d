package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.ToolCall;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code message.tool_calls} of an Ollama record. Ollama sends each call whole ({@code function.name},
 * {@code function.arguments} as an object) and often without an id: one is made that the same call always gets,
 * so the client's result finds it again, also after a restart.
 */
final class OllamaToolCalls {
    private OllamaToolCalls() {
    }

    /** @param firstIndex how many calls this generation had before these */
    static List<ToolCall> read(JsonArray array, int firstIndex, String base) {
        List<ToolCall> out = new ArrayList<>(array.size());
        for (JsonValue v : array) {
            if (!(v instanceof JsonObject call) || !(call.get("function") instanceof JsonObject fn)
                    || !(fn.get("name") instanceof JsonString name)) {
                throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base
                        + " sent a tool call without function.name: " + v);
            }
            String arguments = arguments(fn.get("arguments"), name.getString(), base);
            String id = call.get("id") instanceof JsonString given && !given.getString().isEmpty() ? given.getString()
                    : ToolCall.stableId(firstIndex + out.size(), name.getString(), arguments);
            out.add(new ToolCall(id, name.getString(), arguments));
        }
        return out;
    }

    private static String arguments(JsonValue args, String name, String base) {
        if (args == null || args.getValueType() == JsonValue.ValueType.NULL) {
            return "{}";
        }
        if (args instanceof JsonObject o) {
            return o.toString();
        }
        if (args instanceof JsonString text) {
            try {
                return ToolCall.parseArguments(text.getString()).toString();
            } catch (IllegalArgumentException e) {
                throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base
                        + " sent a tool call to " + name + " whose " + e.getMessage(), e);
            }
        }
        throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base + " sent a tool call to " + name
                + " whose arguments are not an object: " + args);
    }
}
