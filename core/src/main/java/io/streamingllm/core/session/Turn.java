package io.streamingllm.core.session;

import io.streamingllm.core.engine.EngineException;

import java.util.concurrent.CompletableFuture;

/** A turn under way. */
public interface Turn {
    String conversationId();

    /**
     * Completes once the turn's events are durable in the log: normally (stop, length, cancelled) or
     * exceptionally with the engine's {@link EngineException}.
     */
    CompletableFuture<TurnResult> result();

    /** Cancels the generation (the upstream request is aborted); the partial turn is logged as cancelled. */
    void cancel();
}
