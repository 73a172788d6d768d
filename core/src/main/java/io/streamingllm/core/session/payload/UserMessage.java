package io.streamingllm.core.session.payload;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.JsonObject;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadKeys.AGENT_ID;
import static io.streamingllm.core.session.payload.PayloadKeys.CONTENT;
import static io.streamingllm.core.session.payload.PayloadKeys.TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.TURN;

/**
 * The payload of a USER_MESSAGE: the user's side of a turn, logged before the reply starts.
 *
 * @param agentId null when not recorded
 * @param turn    the turn's number, from 1; 0 when not recorded
 * @param tokens  the message's tokens as counted for the window
 */
public record UserMessage(String content, String agentId, int turn, int tokens) {
    public JsonObject toJson() {
        return JSON.createObjectBuilder()
                .add(CONTENT, content)
                .add(AGENT_ID, agentId)
                .add(TURN, turn)
                .add(TOKENS, tokens)
                .build();
    }

    public Event toEvent(String conversationId) {
        return Event.create(conversationId, EventType.USER_MESSAGE, Visibility.USER, toJson());
    }

    public static UserMessage from(JsonObject payload) {
        return new UserMessage(payload.getString(CONTENT, ""), payload.getString(AGENT_ID, null),
                payload.getInt(TURN, 0), payload.getInt(TOKENS, 0));
    }
}
