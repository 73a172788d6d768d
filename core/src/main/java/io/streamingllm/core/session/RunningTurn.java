package io.streamingllm.core.session;

import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.session.payload.WindowState;

import java.util.concurrent.CompletableFuture;

/**
 * A turn under way: its generation and the result that completes once the turn is durable. Thread-safe:
 * cancelled from any thread, attached on the starting thread, completed on the service's background thread.
 */
final class RunningTurn implements Turn {
    private final String conversationId;
    /** Replaced when a retry rebuilds the prompt in a smaller window before the first token. */
    private volatile WindowState window;
    private final CompletableFuture<TurnResult> result = new CompletableFuture<>();
    private volatile Generation generation;
    private volatile boolean cancelled;
    /** Rounds of the built-in conversation_search the sidecar ran for this turn (completing thread only). */
    int searchRounds;

    /**
     * @param conversationId null for a relayed call that names no conversation
     * @param window         the window the prompt was built in
     */
    RunningTurn(String conversationId, WindowState window) {
        this.conversationId = conversationId;
        this.window = window;
    }

    /** Binds the generation; a cancel that came first reaches it now. */
    void attach(Generation g) {
        generation = g;
        if (cancelled) {
            g.cancel();
        }
    }

    @Override
    public String conversationId() {
        return conversationId;
    }

    @Override
    public WindowState window() {
        return window;
    }

    /** The prompt was built again in {@code smaller} (a retry before the first token): the turn reports that one. */
    void window(WindowState smaller) {
        window = smaller;
    }

    boolean cancelled() {
        return cancelled;
    }

    @Override
    public CompletableFuture<TurnResult> result() {
        return result;
    }

    @Override
    public void cancel() {
        cancelled = true;
        Generation g = generation;
        if (g != null) {
            g.cancel();
        }
    }
}
