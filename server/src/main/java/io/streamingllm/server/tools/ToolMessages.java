package io.streamingllm.server.tools;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tool parts of one request's messages, read in order: an assistant message's {@code tool_calls} (arguments
 * as OpenAI's JSON string or Ollama's object; an id made when the client sent none) and the {@code tool} messages
 * that answer them, each matched to its call ({@code tool_call_id}, else Ollama's {@code tool_name}, else the
 * next unanswered call). A result naming a call id no earlier message made is refused, as are arguments that are
 * not a JSON object. One per request.
 */
public final class ToolMessages {
    private final Refusal refusal;
    private final boolean idRequired;
    /** Calls made so far and not answered yet, by id, in order. */
    private final Map<String, ToolCall> open = new LinkedHashMap<>();
    private final Map<String, ToolCall> made = new LinkedHashMap<>();

    /** @param idRequired OpenAI: a tool message must name its call; Ollama: it may name the tool only */
    public ToolMessages(Refusal refusal, boolean idRequired) {
        this.refusal = refusal;
        this.idRequired = idRequired;
    }

    /** An assistant message, with its calls if it has any. */
    public ChatMessage assistant(JsonObject m, String content, String at) {
        JsonValue v = m.get("tool_calls");
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return ChatMessage.assistant(content);
        }
        if (v.getValueType() != JsonValue.ValueType.ARRAY) {
            throw refusal.refuse(at + ".tool_calls", at + ".tool_calls must be an array of {id, type, function}");
        }
        List<ToolCall> calls = new ArrayList<>();
        for (JsonValue c : v.asJsonArray()) {
            String callAt = at + ".tool_calls[" + calls.size() + "]";
            if (!(c instanceof JsonObject call) || !(call.get("function") instanceof JsonObject fn)) {
                throw refusal.refuse(callAt + ".function", callAt + ".function must be an object {name, arguments}");
            }
            if (!(fn.get("name") instanceof JsonString name) || name.getString().isBlank()) {
                throw refusal.refuse(callAt + ".function.name", callAt + ".function.name must be a non-empty string");
            }
            String arguments = arguments(fn.get("arguments"), callAt + ".function.arguments");
            String id = call.get("id") instanceof JsonString given && !given.getString().isBlank() ? given.getString()
                    : ToolCall.stableId(calls.size(), name.getString(), arguments);
            ToolCall made = new ToolCall(id, name.getString(), arguments);
            calls.add(made);
            open.put(id, made);
            this.made.put(id, made);
        }
        return ChatMessage.toolCalls(content, calls);
    }

    /** A {@code tool} message, matched to the call it answers. */
    public ChatMessage result(JsonObject m, String content, String at) {
        String id = m.get("tool_call_id") instanceof JsonString s && !s.getString().isBlank() ? s.getString() : null;
        String name = m.get("tool_name") instanceof JsonString s && !s.getString().isBlank() ? s.getString()
                : m.get("name") instanceof JsonString n && !n.getString().isBlank() ? n.getString() : null;
        if (id != null) {
            ToolCall call = made.get(id);
            if (call == null) {
                throw refusal.refuse(at + ".tool_call_id", at + ".tool_call_id " + id
                        + " answers no tool call of an earlier assistant message");
            }
            open.remove(id);
            return ChatMessage.toolResult(id, name == null ? call.name() : name, content);
        }
        if (idRequired) {
            throw refusal.refuse(at + ".tool_call_id", at + ".tool_call_id is required: the id of the call this result answers");
        }
        ToolCall call = open.values().stream().filter(c -> name == null || c.name().equals(name)).findFirst().orElse(null);
        if (call == null) {
            return ChatMessage.toolResult(null, name, content); // Ollama lets a client hand over a result unasked
        }
        open.remove(call.id());
        return ChatMessage.toolResult(call.id(), call.name(), content);
    }

    private String arguments(JsonValue v, String at) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return "{}";
        }
        if (v instanceof JsonObject o) {
            return o.toString();
        }
        if (v instanceof JsonString s) {
            try {
                return ToolCall.parseArguments(s.getString()).toString();
            } catch (IllegalArgumentException e) {
                throw refusal.refuse(at, at + ": " + e.getMessage());
            }
        }
        throw refusal.refuse(at, at + " must be a JSON object (or, as OpenAI sends it, a string holding one)");
    }
}
