package io.streamingllm.server.chat;

import io.streamingllm.core.Ids;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.http.JsonFields;
import jakarta.json.JsonObject;

import java.util.List;

/**
 * A turn as clients send it, over WebSocket ({@code {agent_id, user_message, conversation_id?, options?}}) or
 * HTTP ({@code user_message} or {@code content}). Options: {@code temperature}, {@code max_new_tokens} or
 * {@code maxNewTokens} (the original TypeScript client's spelling), {@code seed}, {@code stop}.
 * Wrong types and missing fields are {@link ApiException} 400 with a message naming the field.
 */
public record TurnInput(String conversationId, String agentId, String userMessage, GenerationOptions options) {
    public static final String NEW = "new";
    private static final int MAX_NEW_TOKENS = 1 << 20;

    /** Parses a turn; {@code pathConversationId} (HTTP) wins over the body's, {@code "new"} or none means new. */
    public static TurnInput parse(JsonObject body, String pathConversationId) {
        JsonFields fields = JsonFields.of(body, "field ");
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
        return new TurnInput(conversation, agent, message, options);
    }

    public TurnRequest toRequest() {
        return new TurnRequest(conversationId, agentId, userMessage, options);
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
