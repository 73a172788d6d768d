package io.streamingllm.core.engine;

import java.util.concurrent.CompletableFuture;

/** A generation under way. */
public interface Generation {
    /**
     * Completes with the result (finish reason stop, length or cancelled) or exceptionally with an
     * {@link EngineException}. Completes only after the last {@link TokenListener#onToken} call returned.
     */
    CompletableFuture<GenerationResult> result();

    /**
     * Stops the generation; the upstream request is aborted promptly. The result then completes with
     * {@link FinishReason#CANCELLED} and the text produced so far. Idempotent; no-op once complete.
     */
    void cancel();
}
