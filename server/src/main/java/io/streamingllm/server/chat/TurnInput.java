package io.streamingllm.server.chat;

import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.http.JsonFields;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;

/**
 * A turn as clients send it, over WebSocket ({@code {agent_id, user_message, conversation_id?, options?}}) or
 * HTTP ({@code user_message} or {@code content}); or the continuation of a turn that ended with tool calls,
 * {@code {conversation_id, tool_results: [{id, content}], agent_id?, options?}} (the agent defaults to the
 * conversation's). Options: {@code temperature}, {@code max_new_tokens} or {@code maxNewTokens} (the original
 * TypeScript client's spelling), {@code seed}, {@code stop}. Wrong types and missing fields are
 * {@link ApiException} 400 with a message naming the field.
 *
 * @param agentId     null for a continuation that leaves it to the conversation
 * @param userMessage empty for a continuation
 * @param toolResults the results of a continuation ({@link ChatMessage#toolResult} without the tool's name); empty
 *                    for a user turn
 */
public record TurnInput(String conversationId, String agentId, String userMessage, GenerationOptions options,
                        List<ChatMessage> toolResults) {
    public static final String NEW = "new";
    private static final int MAX_NEW_TOKENS = 1 << 20;

    /** Parses a turn; {@code pathConversationId} (HTTP) wins over the body's, {@code "new"} or none means new. */
    public static TurnInput parse(JsonObject body, String pathConversationId) {
        JsonFields fields = JsonFields.of(body, "field ");
        if (body.containsKey("tool_results")) {
            return continuation(body, fields, pathConversationId);
        }
        String agent = fields.requiredString("agent_id");
        String message = body.containsKey("user_message") ? fields.requiredString("user_message")
                : body.containsKey("content") ? fields.requiredString("content") : null;
        if (message == null) {
            throw ApiException.badRequest("missing field user_message (a string)");
        }
        String conversation = pathConversationId != null ? pathConversationId
                : fields.string("conversation_id").orElse(null);
        if (conversation == null || conversation.isEmpty() || NEW.equals(conversation)) {
            conversation = Ids.newConversationId();
        } else {
            Ids.require("conversation", conversation);
        }
        Ids.require("agent", agent);
        GenerationOptions options = JsonFields.of(body, "").object("options").map(TurnInput::options)
                .orElse(GenerationOptions.DEFAULTS);
        return new TurnInput(conversation, agent, message, options, List.of());
    }

    /** {@code {conversation_id, tool_results: [{id, content}]}}: the results of the calls the conversation's newest reply made. */
    private static TurnInput continuation(JsonObject body, JsonFields fields, String pathConversationId) {
        if (body.containsKey("user_message") || body.containsKey("content")) {
            throw ApiException.badRequest("a turn carries either user_message or tool_results, not both");
        }
        String conversation = pathConversationId != null ? pathConversationId
                : fields.string("conversation_id").orElse(null);
        if (conversation == null || conversation.isEmpty() || NEW.equals(conversation)) {
            throw ApiException.badRequest("tool_results continue a conversation: conversation_id is required");
        }
        Ids.require("conversation", conversation);
        String agent = fields.string("agent_id").orElse(null);
        if (agent != null) {
            Ids.require("agent", agent);
        }
        if (!(body.get("tool_results") instanceof JsonArray list) || list.isEmpty()) {
            throw ApiException.badRequest("tool_results must be a non-empty array of {id, content}");
        }
        List<ChatMessage> results = new ArrayList<>(list.size());
        for (JsonValue v : list) {
            String at = "tool_results[" + results.size() + "]";
            if (!(v instanceof JsonObject r)) {
                throw ApiException.badRequest(at + " must be an object {id, content}");
            }
            if (!(r.get("id") instanceof JsonString id) || id.getString().isBlank()) {
                throw ApiException.badRequest(at + ".id must be the id of the tool call this result answers");
            }
            results.add(ChatMessage.toolResult(id.getString(), null, content(r.get("content"), at + ".content")));
        }
        GenerationOptions options = JsonFields.of(body, "").object("options").map(TurnInput::options)
                .orElse(GenerationOptions.DEFAULTS);
        return new TurnInput(conversation, agent, "", options, List.copyOf(results));
    }

    /** A result's content: a string as it is, any other JSON value as its JSON text (tools often answer objects). */
    private static String content(JsonValue v, String at) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            throw ApiException.badRequest(at + " is required (a string, or any JSON value)");
        }
        return v instanceof JsonString s ? s.getString() : v.toString();
    }

    public TurnRequest toRequest() {
        return new TurnRequest(conversationId, agentId, userMessage, options, toolResults);
    }

    private static GenerationOptions options(JsonObject o) {
        JsonFields fields = JsonFields.of(o, "options.");
        Double temperature = fields.number("temperature").orElse(null);
        if (temperature != null && (temperature < 0 || temperature > 100 || temperature.isNaN())) {
            throw ApiException.badRequest("options.temperature must be a number from 0 to 100");
        }
        Integer max = fields.intInRange(o.containsKey("max_new_tokens") ? "max_new_tokens" : "maxNewTokens",
                1, MAX_NEW_TOKENS).orElse(null);
        Long seed = fields.integer("seed").orElse(null);
        List<String> stop = fields.strings("stop").orElse(List.of());
        return new GenerationOptions(temperature, max, seed, stop, null, null);
    }
}
