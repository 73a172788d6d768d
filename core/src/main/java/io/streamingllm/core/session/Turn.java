package io.streamingllm.core.session;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.session.payload.WindowState;

import java.util.concurrent.CompletableFuture;

/** A turn under way. */
public interface Turn {
    String conversationId();

    /**
     * Completes once the turn's events are durable in the log: normally (stop, length, cancelled) or
     * exceptionally with the engine's {@link EngineException}.
     */
    CompletableFuture<TurnResult> result();

    /**
     * The window the prompt was built in: tokens of the sink, the summary and the recent turns, and how many turns
     * left it (for a relayed call, how many of the client's turns were folded into the summary). Known when the
     * turn starts, so a response can say what the window did before its first token.
     */
    default WindowState window() {
        return WindowState.EMPTY;
    }

    /** Cancels the generation (the upstream request is aborted); the partial turn is logged as cancelled. */
    void cancel();
}
