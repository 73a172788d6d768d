package io.streamingllm.core.session.payload;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.engine.ChatMessage;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import java.util.List;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadKeys.AGENT_ID;
import static io.streamingllm.core.session.payload.PayloadKeys.CONTENT;
import static io.streamingllm.core.session.payload.PayloadKeys.TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.TOOL_RESULTS;
import static io.streamingllm.core.session.payload.PayloadKeys.TURN;

/**
 * The payload of a USER_MESSAGE: the user's side of a turn, logged before the reply starts.
 *
 * @param agentId null when not recorded
 * @param turn    the turn's number, from 1; 0 when not recorded
 * @param tokens  the message's tokens as counted for the window
 * @param toolResults the tool results the client handed back in this turn (role tool), in order; empty when none
 */
public record UserMessage(String content, String agentId, int turn, int tokens, List<ChatMessage> toolResults) {
    public UserMessage {
        toolResults = toolResults == null ? List.of() : List.copyOf(toolResults);
    }

    /** A message without tool results. */
    public UserMessage(String content, String agentId, int turn, int tokens) {
        this(content, agentId, turn, tokens, List.of());
    }

    public JsonObject toJson() {
        JsonObjectBuilder b = JSON.createObjectBuilder()
                .add(CONTENT, content)
                .add(AGENT_ID, agentId)
                .add(TURN, turn)
                .add(TOKENS, tokens);
        if (!toolResults.isEmpty()) {
            b.add(TOOL_RESULTS, ToolPayloads.results(toolResults));
        }
        return b.build();
    }

    public Event toEvent(String conversationId) {
        return Event.create(conversationId, EventType.USER_MESSAGE, Visibility.USER, toJson());
    }

    public static UserMessage from(JsonObject payload) {
        return new UserMessage(payload.getString(CONTENT, ""), payload.getString(AGENT_ID, null),
                payload.getInt(TURN, 0), payload.getInt(TOKENS, 0), ToolPayloads.results(payload.get(TOOL_RESULTS)));
    }
}
