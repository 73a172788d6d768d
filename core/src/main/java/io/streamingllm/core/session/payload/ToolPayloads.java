package io.streamingllm.core.session.payload;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadKeys.ARGUMENTS;
import static io.streamingllm.core.session.payload.PayloadKeys.CONTENT;
import static io.streamingllm.core.session.payload.PayloadKeys.ID;
import static io.streamingllm.core.session.payload.PayloadKeys.NAME;
import static io.streamingllm.core.session.payload.PayloadKeys.TOOL_CALL_ID;
import static io.streamingllm.core.session.payload.PayloadKeys.TOOL_NAME;

/** The {@code tool_calls} and {@code tool_results} arrays of the message payloads, written and read back. */
final class ToolPayloads {
    private ToolPayloads() {
    }

    static JsonArray calls(List<ToolCall> calls) {
        JsonArrayBuilder a = JSON.createArrayBuilder();
        for (ToolCall c : calls) {
            a.add(JSON.createObjectBuilder().add(ID, c.id()).add(NAME, c.name()).add(ARGUMENTS, c.arguments()));
        }
        return a.build();
    }

    static List<ToolCall> calls(JsonValue v) {
        List<ToolCall> out = new ArrayList<>();
        if (v instanceof JsonArray a) {
            for (JsonObject o : a.getValuesAs(JsonObject.class)) {
                out.add(new ToolCall(o.getString(ID, ""), o.getString(NAME, ""), o.getString(ARGUMENTS, "{}")));
            }
        }
        return out;
    }

    static JsonArray results(List<ChatMessage> results) {
        JsonArrayBuilder a = JSON.createArrayBuilder();
        for (ChatMessage m : results) {
            JsonObjectBuilder o = JSON.createObjectBuilder();
            if (m.toolCallId() != null) {
                o.add(TOOL_CALL_ID, m.toolCallId());
            }
            if (m.toolName() != null) {
                o.add(TOOL_NAME, m.toolName());
            }
            a.add(o.add(CONTENT, m.content()));
        }
        return a.build();
    }

    static List<ChatMessage> results(JsonValue v) {
        List<ChatMessage> out = new ArrayList<>();
        if (v instanceof JsonArray a) {
            for (JsonObject o : a.getValuesAs(JsonObject.class)) {
                out.add(ChatMessage.toolResult(o.getString(TOOL_CALL_ID, null), o.getString(TOOL_NAME, null),
                        o.getString(CONTENT, "")));
            }
        }
        return out;
    }
}
