package io.streamingllm.core.session;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ToolCall;

import java.util.List;

/**
 * A completed turn inside the window: both sides, their event ids and their tokens (as counted when logged).
 * Turns are kept and evicted whole; a turn that continues another with tool results is evicted with the turn whose
 * calls it answers.
 *
 * @param results the tool results the turn opened with instead of a user message (empty for a user turn)
 * @param calls   the tools the reply called (empty when it called none)
 */
record RecentTurn(int turn, String userEventId, String user, String assistant, int tokens, List<ChatMessage> results,
                  List<ToolCall> calls) {
    RecentTurn {
        results = results == null ? List.of() : List.copyOf(results);
        calls = calls == null ? List.of() : List.copyOf(calls);
    }

    RecentTurn(int turn, String userEventId, String user, String assistant, int tokens) {
        this(turn, userEventId, user, assistant, tokens, List.of(), List.of());
    }

    /** Only completed turns go into later prompts; cancelled and failed ones stay in the log alone. */
    static boolean entersWindow(FinishReason reason) {
        return reason == FinishReason.STOP || reason == FinishReason.LENGTH || reason == FinishReason.TOOL_CALLS;
    }

    /** Whether the turn opened with tool results (it answers the calls of the turn before it). */
    boolean continuation() {
        return !results.isEmpty();
    }
}
