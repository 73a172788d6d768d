package io.streamingllm.server.chat;

import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.server.edge.ApiException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.List;

/**
 * A turn as clients send it, over WebSocket ({@code {agent_id, user_message, conversation_id?, options?}}) or
 * HTTP ({@code user_message} or {@code content}). Options: {@code temperature}, {@code max_new_tokens} or
 * {@code maxNewTokens} (the original TypeScript client's spelling), {@code seed}, {@code stop}.
 * Wrong types and missing fields are {@link ApiException} 400 with a message naming the field.
 */
public record TurnInput(String conversationId, String agentId, String userMessage, GenerationOptions options) {
    public static final String NEW = "new";

    /** Parses a turn; {@code pathConversationId} (HTTP) wins over the body's, {@code "new"} or none means new. */
    public static TurnInput parse(JsonObject body, String pathConversationId) {
        String agent = requiredString(body, "agent_id");
        String message = body.containsKey("user_message") ? requiredString(body, "user_message")
                : body.containsKey("content") ? requiredString(body, "content") : null;
        if (message == null) {
            throw ApiException.badRequest("missing field user_message (a string)");
        }
        String conversation = pathConversationId != null ? pathConversationId : optionalString(body, "conversation_id");
        if (conversation == null || conversation.isEmpty() || NEW.equals(conversation)) {
            conversation = Ids.newConversationId();
        } else {
            Ids.require("conversation", conversation);
        }
        Ids.require("agent", agent);
        return new TurnInput(conversation, agent, message, options(body.get("options")));
    }

    public TurnRequest toRequest() {
        return new TurnRequest(conversationId, agentId, userMessage, options);
    }

    static GenerationOptions options(JsonValue v) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return GenerationOptions.DEFAULTS;
        }
        if (v.getValueType() != JsonValue.ValueType.OBJECT) {
            throw ApiException.badRequest("options must be an object");
        }
        JsonObject o = v.asJsonObject();
        Double temperature = number(o, "temperature");
        if (temperature != null && (temperature < 0 || temperature > 100 || temperature.isNaN())) {
            throw ApiException.badRequest("options.temperature must be a number from 0 to 100");
        }
        Integer max = positiveInt(o, o.containsKey("max_new_tokens") ? "max_new_tokens" : "maxNewTokens");
        JsonValue seedValue = o.get("seed");
        Long seed = null;
        if (seedValue != null && seedValue.getValueType() != JsonValue.ValueType.NULL) {
            if (!(seedValue instanceof JsonNumber n) || !n.isIntegral()) {
                throw ApiException.badRequest("options.seed must be an integer");
            }
            seed = n.longValue();
        }
        return new GenerationOptions(temperature, max, seed, stop(o.get("stop")), null, null);
    }

    static List<String> stop(JsonValue v) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return List.of();
        }
        if (v instanceof JsonString s) {
            return List.of(s.getString());
        }
        if (v.getValueType() == JsonValue.ValueType.ARRAY
                && v.asJsonArray().stream().allMatch(e -> e.getValueType() == JsonValue.ValueType.STRING)) {
            return v.asJsonArray().stream().map(e -> ((JsonString) e).getString()).toList();
        }
        throw ApiException.badRequest("options.stop must be a string or an array of strings");
    }

    static Double number(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (!(v instanceof JsonNumber n)) {
            throw ApiException.badRequest("options." + key + " must be a number");
        }
        return n.doubleValue();
    }

    static Integer positiveInt(JsonObject o, String key) {
        JsonValue v = o.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (!(v instanceof JsonNumber n) || !n.isIntegral() || n.longValue() < 1 || n.longValue() > 1 << 20) {
            throw ApiException.badRequest("options." + key + " must be an integer from 1 to " + (1 << 20));
        }
        return n.intValue();
    }

    static String requiredString(JsonObject body, String key) {
        JsonValue v = body.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            throw ApiException.badRequest("missing field " + key + " (a string)");
        }
        if (!(v instanceof JsonString s)) {
            throw ApiException.badRequest("field " + key + " must be a string");
        }
        return s.getString();
    }

    static String optionalString(JsonObject body, String key) {
        JsonValue v = body.get(key);
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return null;
        }
        if (!(v instanceof JsonString s)) {
            throw ApiException.badRequest("field " + key + " must be a string");
        }
        return s.getString();
    }
}
