package io.streamingllm.server.metrics;

import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.TurnResult;

import java.util.concurrent.CompletableFuture;

/**
 * Wraps a turn's listener to feed the metrics: stream count, tokens relayed, time to first token, turn outcomes.
 *
 * <p>One per turn: {@link #onToken} on the engine's thread, {@link #refused} and {@link #follow} on the request's.
 */
public final class TurnMeter implements TokenListener {
    private final Metrics metrics;
    private final TokenListener downstream;
    private final long startNanos = System.nanoTime();
    private boolean first = true;

    public TurnMeter(Metrics metrics, TokenListener downstream) {
        this.metrics = metrics;
        this.downstream = downstream;
        metrics.streamStarted();
    }

    @Override
    public void onToken(String delta) {
        long now = System.nanoTime();
        if (first) {
            first = false;
            metrics.firstToken(now - startNanos);
        }
        metrics.tokenRelayed();
        downstream.onToken(delta);
    }

    @Override
    public void onToolCall(ToolCall call) {
        if (first) {
            first = false;
            metrics.firstToken(System.nanoTime() - startNanos);
        }
        downstream.onToolCall(call);
    }

    /** The turn never started (refused): undo the stream count. */
    public void refused() {
        metrics.streamEnded();
    }

    /** Follows the turn to its end. */
    public void follow(CompletableFuture<TurnResult> result) {
        result.whenComplete((r, e) -> {
            metrics.streamEnded();
            if (e != null) {
                metrics.turnFailed();
                return;
            }
            if (r.finishReason() == FinishReason.CANCELLED) {
                metrics.turnCancelled();
            } else {
                metrics.turnCompleted();
            }
        });
    }
}
