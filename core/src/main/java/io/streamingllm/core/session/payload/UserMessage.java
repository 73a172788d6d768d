package io.streamingllm.core.session.payload;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.engine.ChatMessage;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;

import java.util.ArrayList;
import java.util.List;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadKeys.AGENT_ID;
import static io.streamingllm.core.session.payload.PayloadKeys.CONTENT;
import static io.streamingllm.core.session.payload.PayloadKeys.RECALLED_EVENT_IDS;
import static io.streamingllm.core.session.payload.PayloadKeys.RECALL_TOKENS;
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
 * @param recalledEventIds the USER_MESSAGE ids of the evicted turns recalled into this turn's prompt, in
 *                         conversation order; empty when none
 * @param recallTokens     the tokens the recalled turns took in the prompt; 0 when none
 */
public record UserMessage(String content, String agentId, int turn, int tokens, List<ChatMessage> toolResults,
                          List<String> recalledEventIds, int recallTokens) {
    public UserMessage {
        toolResults = toolResults == null ? List.of() : List.copyOf(toolResults);
        recalledEventIds = recalledEventIds == null ? List.of() : List.copyOf(recalledEventIds);
    }

    /** A message that recalled nothing. */
    public UserMessage(String content, String agentId, int turn, int tokens, List<ChatMessage> toolResults) {
        this(content, agentId, turn, tokens, toolResults, List.of(), 0);
    }

    /** A message without tool results. */
    public UserMessage(String content, String agentId, int turn, int tokens) {
        this(content, agentId, turn, tokens, List.of());
    }

    /** The message as text: the user's words, then each tool result handed back written out in full. */
    public String fullText() {
        StringBuilder sb = new StringBuilder(content);
        for (ChatMessage r : toolResults) {
            String name = r.toolName() != null ? r.toolName() : r.toolCallId() != null ? r.toolCallId() : "tool";
            sb.append(sb.isEmpty() ? "" : "\n").append('[').append(name).append(" -> ").append(r.content()).append(']');
        }
        return sb.toString();
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
        if (!recalledEventIds.isEmpty()) {
            JsonArrayBuilder ids = JSON.createArrayBuilder();
            recalledEventIds.forEach(ids::add);
            b.add(RECALLED_EVENT_IDS, ids).add(RECALL_TOKENS, recallTokens);
        }
        return b.build();
    }

    public Event toEvent(String conversationId) {
        return Event.create(conversationId, EventType.USER_MESSAGE, Visibility.USER, toJson());
    }

    public static UserMessage from(JsonObject payload) {
        JsonArray ids = payload.getJsonArray(RECALLED_EVENT_IDS);
        List<String> recalled = new ArrayList<>(ids == null ? 0 : ids.size());
        if (ids != null) {
            ids.getValuesAs(JsonString.class).forEach(s -> recalled.add(s.getString()));
        }
        return new UserMessage(payload.getString(CONTENT, ""), payload.getString(AGENT_ID, null),
                payload.getInt(TURN, 0), payload.getInt(TOKENS, 0), ToolPayloads.results(payload.get(TOOL_RESULTS)),
                recalled, payload.getInt(RECALL_TOKENS, 0));
    }
}
