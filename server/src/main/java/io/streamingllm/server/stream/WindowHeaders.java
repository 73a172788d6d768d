package io.streamingllm.server.stream;

import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.payload.WindowState;

/**
 * The response headers that say what the window did to a turn's prompt, so that context is never dropped
 * silently: {@code X-Context-Tokens} (sink, summary, recalled and recent tokens the prompt was built from, as estimated),
 * {@code X-Context-Evicted-Turns} (turns that left the window for the summary), and {@code X-Conversation-Id}
 * for a logged turn. Sent on every chat response, streamed or not, of every chat API.
 */
public final class WindowHeaders {
    public static final String CONVERSATION_ID = "X-Conversation-Id";
    public static final String CONTEXT_TOKENS = "X-Context-Tokens";
    public static final String EVICTED_TURNS = "X-Context-Evicted-Turns";

    private WindowHeaders() {
    }

    public static void set(ServerResponse res, Turn turn) {
        if (turn.conversationId() != null) {
            res.header(CONVERSATION_ID, turn.conversationId());
        }
        WindowState w = turn.window();
        res.header(CONTEXT_TOKENS, Integer.toString(contextTokens(w)));
        res.header(EVICTED_TURNS, Integer.toString(w.evictedTurns()));
    }

    /** The tokens of the window's parts together (recalled turns included). */
    public static int contextTokens(WindowState w) {
        return w.sinkTokens() + w.summaryTokens() + w.recallTokens() + w.recentTokens();
    }
}
