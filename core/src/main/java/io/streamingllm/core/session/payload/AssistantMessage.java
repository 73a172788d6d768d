package io.streamingllm.core.session.payload;

import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import java.util.List;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadJson.fromWire;
import static io.streamingllm.core.session.payload.PayloadJson.getLong;
import static io.streamingllm.core.session.payload.PayloadJson.wireName;
import static io.streamingllm.core.session.payload.PayloadKeys.AGENT_ID;
import static io.streamingllm.core.session.payload.PayloadKeys.COMPLETION_TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.CONTENT;
import static io.streamingllm.core.session.payload.PayloadKeys.ERROR;
import static io.streamingllm.core.session.payload.PayloadKeys.EVAL_DURATION;
import static io.streamingllm.core.session.payload.PayloadKeys.FINISH_REASON;
import static io.streamingllm.core.session.payload.PayloadKeys.LOAD_DURATION;
import static io.streamingllm.core.session.payload.PayloadKeys.MODEL;
import static io.streamingllm.core.session.payload.PayloadKeys.PROMPT_EVAL_DURATION;
import static io.streamingllm.core.session.payload.PayloadKeys.PROMPT_TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.TOOL_CALLS;
import static io.streamingllm.core.session.payload.PayloadKeys.TOTAL_DURATION;
import static io.streamingllm.core.session.payload.PayloadKeys.TURN;
import static io.streamingllm.core.session.payload.PayloadKeys.WINDOW;

/**
 * The payload of an ASSISTANT_MESSAGE: the reply that ends a turn, however it ended, with what the engine
 * reported and the window the prompt was built from.
 *
 * @param agentId          null when not recorded
 * @param model            null when not recorded
 * @param turn             the number of the turn it answers; 0 when not recorded
 * @param finishReason     null when not recorded or unknown
 * @param tokens           the reply's tokens as counted for the window
 * @param promptTokens     as the engine reported; -1 when unknown (the turn failed)
 * @param completionTokens as the engine reported; -1 when unknown (the turn failed)
 * @param totalDuration    nanoseconds, as the engine reported (the turn's wall time when it failed)
 * @param window           null when not recorded
 * @param error            what went wrong when {@code finishReason} is error, else null
 * @param toolCalls        the tools the reply called, in order; empty when none
 */
public record AssistantMessage(String content, String agentId, String model, int turn, FinishReason finishReason,
                               int tokens, int promptTokens, int completionTokens, long totalDuration,
                               long loadDuration, long promptEvalDuration, long evalDuration, WindowState window,
                               String error, List<ToolCall> toolCalls) {
    public AssistantMessage {
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    /** A reply that called no tools. */
    public AssistantMessage(String content, String agentId, String model, int turn, FinishReason finishReason,
                            int tokens, int promptTokens, int completionTokens, long totalDuration,
                            long loadDuration, long promptEvalDuration, long evalDuration, WindowState window,
                            String error) {
        this(content, agentId, model, turn, finishReason, tokens, promptTokens, completionTokens, totalDuration,
                loadDuration, promptEvalDuration, evalDuration, window, error, List.of());
    }

    /** The reply as text: its words, then each tool call it made written out in full. */
    public String fullText() {
        StringBuilder sb = new StringBuilder(content);
        for (ToolCall c : toolCalls) {
            sb.append(sb.isEmpty() ? "" : "\n").append("[called ").append(c.name()).append('(').append(c.arguments())
                    .append(")]");
        }
        return sb.toString();
    }

    public JsonObject toJson() {
        JsonObjectBuilder b = JSON.createObjectBuilder()
                .add(CONTENT, content)
                .add(AGENT_ID, agentId)
                .add(MODEL, model)
                .add(TURN, turn)
                .add(FINISH_REASON, wireName(finishReason))
                .add(TOKENS, tokens)
                .add(PROMPT_TOKENS, promptTokens)
                .add(COMPLETION_TOKENS, completionTokens)
                .add(TOTAL_DURATION, totalDuration)
                .add(LOAD_DURATION, loadDuration)
                .add(PROMPT_EVAL_DURATION, promptEvalDuration)
                .add(EVAL_DURATION, evalDuration);
        if (window != null) {
            b.add(WINDOW, window.toJson());
        }
        if (error != null) {
            b.add(ERROR, error);
        }
        if (!toolCalls.isEmpty()) {
            b.add(TOOL_CALLS, ToolPayloads.calls(toolCalls));
        }
        return b.build();
    }

    public Event toEvent(String conversationId) {
        return Event.create(conversationId, EventType.ASSISTANT_MESSAGE, Visibility.USER, toJson());
    }

    public static AssistantMessage from(JsonObject payload) {
        JsonObject window = payload.getJsonObject(WINDOW);
        return new AssistantMessage(payload.getString(CONTENT, ""), payload.getString(AGENT_ID, null),
                payload.getString(MODEL, null), payload.getInt(TURN, 0),
                fromWire(FinishReason.values(), payload.getString(FINISH_REASON, null)), payload.getInt(TOKENS, 0),
                payload.getInt(PROMPT_TOKENS, -1), payload.getInt(COMPLETION_TOKENS, -1),
                getLong(payload, TOTAL_DURATION, 0), getLong(payload, LOAD_DURATION, 0),
                getLong(payload, PROMPT_EVAL_DURATION, 0), getLong(payload, EVAL_DURATION, 0),
                window == null ? null : WindowState.from(window), payload.getString(ERROR, null),
                ToolPayloads.calls(payload.get(TOOL_CALLS)));
    }
}
