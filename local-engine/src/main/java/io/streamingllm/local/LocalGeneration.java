package io.streamingllm.local;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One generation as its caller sees it: the request, waiting for or running on the engine's worker,
 * and its result. {@link #cancel()} may come from any thread; the worker reads the flag before the
 * prefill and before each token.
 */
final class LocalGeneration implements Generation {
    private final String sessionKey;
    private final List<ChatMessage> messages;
    private final GenerationOptions options;
    private final TokenListener listener;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    private volatile boolean cancelled;

    /** {@code sessionKey} null: no session, the whole prompt over a fresh cache. */
    LocalGeneration(String sessionKey, List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        this.sessionKey = sessionKey;
        this.messages = List.copyOf(messages);
        this.options = options == null ? GenerationOptions.DEFAULTS : options;
        this.listener = listener;
    }

    String sessionKey() {
        return sessionKey;
    }

    List<ChatMessage> messages() {
        return messages;
    }

    GenerationOptions options() {
        return options;
    }

    TokenListener listener() {
        return listener;
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    @Override
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }
}
