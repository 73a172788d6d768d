package io.streamingllm.core.session;

/** A completed turn inside the window: both sides, their event ids and their tokens (as counted when logged). */
record RecentTurn(int turn, String userEventId, String user, String assistant, int tokens) {
}
