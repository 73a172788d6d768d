package io.streamingllm.core.session.payload;

import jakarta.json.JsonObject;

import static io.streamingllm.core.session.payload.PayloadJson.JSON;
import static io.streamingllm.core.session.payload.PayloadKeys.EVICTED_TURNS;
import static io.streamingllm.core.session.payload.PayloadKeys.RECALL_TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.RECENT_TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.SINK_TOKENS;
import static io.streamingllm.core.session.payload.PayloadKeys.SUMMARY_TOKENS;

/**
 * Where a conversation's prompt stands: tokens of each part and how many turns left the window. Logged with
 * every reply ({@code window} of ASSISTANT_MESSAGE) and shown as the {@code window} of a conversation.
 *
 * @param recallTokens the evicted turns recalled into the prompt; written only when there are any, so windows
 *                     without recall read as they always did
 */
public record WindowState(int sinkTokens, int summaryTokens, int recallTokens, int recentTokens, int evictedTurns) {
    /** A conversation before its first reply. */
    public static final WindowState EMPTY = new WindowState(0, 0, 0, 0);

    /** A window without recall. */
    public WindowState(int sinkTokens, int summaryTokens, int recentTokens, int evictedTurns) {
        this(sinkTokens, summaryTokens, 0, recentTokens, evictedTurns);
    }

    public WindowState withRecall(int tokens) {
        return new WindowState(sinkTokens, summaryTokens, tokens, recentTokens, evictedTurns);
    }

    public JsonObject toJson() {
        var b = JSON.createObjectBuilder()
                .add(SINK_TOKENS, sinkTokens)
                .add(SUMMARY_TOKENS, summaryTokens);
        if (recallTokens > 0) {
            b.add(RECALL_TOKENS, recallTokens);
        }
        return b.add(RECENT_TOKENS, recentTokens)
                .add(EVICTED_TURNS, evictedTurns)
                .build();
    }

    /** Reads a logged window; an absent count reads as 0. */
    public static WindowState from(JsonObject window) {
        return new WindowState(window.getInt(SINK_TOKENS, 0), window.getInt(SUMMARY_TOKENS, 0),
                window.getInt(RECALL_TOKENS, 0), window.getInt(RECENT_TOKENS, 0), window.getInt(EVICTED_TURNS, 0));
    }
}
