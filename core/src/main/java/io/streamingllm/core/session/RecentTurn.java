package io.streamingllm.core.session;

import io.streamingllm.core.engine.FinishReason;

/**
 * A completed turn inside the window: both sides, their event ids and their tokens (as counted when logged).
 * Turns are kept and evicted whole.
 */
record RecentTurn(int turn, String userEventId, String user, String assistant, int tokens) {
    /** Only completed turns go into later prompts; cancelled and failed ones stay in the log alone. */
    static boolean entersWindow(FinishReason reason) {
        return reason == FinishReason.STOP || reason == FinishReason.LENGTH;
    }
}
