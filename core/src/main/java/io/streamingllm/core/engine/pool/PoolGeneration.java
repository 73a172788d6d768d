package io.streamingllm.core.engine.pool;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One turn over a pool: it runs on the placed upstream and, while no token has reached the listener, a failure that
 * is the upstream's fault (cannot connect, 5xx, dropped) sends it to the next upstream in the key's order. Once a
 * token flowed a failure ends the turn as a single upstream's would: the client already holds part of an answer.
 */
final class PoolGeneration implements Generation {
    private final UpstreamPool pool;
    private final String placementKey;
    private final String sessionKey;
    private final List<ChatMessage> messages;
    private final GenerationOptions options;
    private final TokenListener listener;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    private final Set<Upstream> tried = new HashSet<>();
    private volatile boolean tokenSeen;
    private volatile boolean cancelled;
    private volatile Generation current;

    PoolGeneration(UpstreamPool pool, String placementKey, String sessionKey, List<ChatMessage> messages,
                   GenerationOptions options, TokenListener listener) {
        this.pool = pool;
        this.placementKey = placementKey;
        this.sessionKey = sessionKey;
        this.messages = messages;
        this.options = options;
        this.listener = listener;
    }

    /** Runs on {@code first}, which the pool placed and already counts as active. */
    void start(Upstream first) {
        attempt(first);
    }

    private void attempt(Upstream upstream) {
        synchronized (tried) {
            tried.add(upstream);
        }
        long sent = System.nanoTime();
        TokenListener relay = delta -> {
            if (!tokenSeen) {
                tokenSeen = true;
                upstream.firstToken(System.nanoTime() - sent);
            }
            listener.onToken(delta);
        };
        Generation g;
        try {
            g = sessionKey == null ? upstream.engine().generate(messages, options, relay)
                    : upstream.engine().generate(sessionKey, messages, options, relay);
        } catch (RuntimeException e) {
            upstream.streamEnded();
            failed(upstream, e);
            return;
        }
        current = g;
        if (cancelled) {
            g.cancel();
        }
        g.result().whenComplete((r, error) -> {
            upstream.streamEnded();
            if (error == null) {
                upstream.succeeded();
                result.complete(r);
            } else {
                failed(upstream, error);
            }
        });
    }

    private void failed(Upstream upstream, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof EngineException e) || !UpstreamPool.upstreamsFault(e.kind())) {
            result.completeExceptionally(cause);
            return;
        }
        pool.reportFailure(upstream, e);
        if (tokenSeen || cancelled) {
            result.completeExceptionally(e);
            return;
        }
        Set<Upstream> exclude;
        synchronized (tried) {
            exclude = Set.copyOf(tried);
        }
        Upstream next = pool.place(placementKey, exclude);
        if (next == null) {
            result.completeExceptionally(e);
            return;
        }
        pool.listener().retried(placementKey, upstream.name(), next.name(), e.getMessage());
        attempt(next);
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    @Override
    public void cancel() {
        cancelled = true;
        Generation g = current;
        if (g != null) {
            g.cancel();
        }
    }
}
