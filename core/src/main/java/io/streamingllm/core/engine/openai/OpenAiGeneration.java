package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineException.Kind;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.http.NdjsonBody;
import io.streamingllm.core.engine.http.StreamedCall;
import io.streamingllm.core.engine.http.StreamingHttp;
import io.streamingllm.core.engine.http.UpstreamRequest;
import io.streamingllm.core.engine.http.TransportFailures;

import java.io.IOException;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One streamed chat completion, with the lifecycle of the Ollama engine's calls ({@link StreamedCall}): the
 * server-sent events are parsed where they arrive (on the HTTP client's thread) and each delta goes straight to the
 * listener; the result is settled (at {@code [DONE]}, failure, cancel, idle timeout) only while no event is being
 * handled, so it completes after the last {@link TokenListener#onToken} call returned. A 429 whose
 * {@code Retry-After} is short is retried once.
 */
final class OpenAiGeneration extends StreamedCall {
    private final OpenAiErrors errors;
    private final String model;
    private final Duration maxRetryWait;
    private final TokenListener listener;
    private final ChatChunk chunks;
    private boolean retried;

    OpenAiGeneration(StreamingHttp http, ScheduledExecutorService timers, OpenAiErrors errors, String model,
                     long idleTimeoutNanos, Duration maxRetryWait, int maxLineBytes, TokenListener listener) {
        super(http, timers, idleTimeoutNanos, maxLineBytes, "openai-result");
        this.errors = errors;
        this.model = model;
        this.maxRetryWait = maxRetryWait;
        this.listener = listener;
        this.chunks = new ChatChunk(errors);
    }

    @Override
    public boolean line(byte[] bytes, int offset, int length) {
        delivering.lock();
        try {
            Stop s = stop.get();
            if (s == Stop.CANCELLED || s == Stop.TIMEOUT) {
                return false;
            }
            if (settled()) {
                return true; // after [DONE] the rest is read (and ignored) so the connection is reused
            }
            lastActivity = System.nanoTime();
            ChatChunk.Event event = chunks.read(bytes, offset, length);
            if (event.delta() != null && !event.delta().isEmpty()) {
                listener.onToken(event.delta());
            }
            for (ToolCall call : event.calls()) {
                listener.onToolCall(call);
            }
            if (event.finished() && !draining()) {
                if (!stop.compareAndSet(null, Stop.FINISHED)) {
                    return false; // cancelled or timed out meanwhile: settled as such
                }
                drainGuard();
            }
            if (event.done()) {
                stop.compareAndSet(null, Stop.FINISHED);
                settle(finalResult(), null);
            }
            return true;
        } catch (EngineException e) {
            if (chunks.finishReason() != null) {
                settle(finalResult(), null); // the answer was whole: a broken tail only costs the connection
            } else {
                finishExceptionally(e); // before the abort, whose own failure signal then finds the result settled
            }
            abort();
            return false;
        } catch (RuntimeException e) {
            finishExceptionally(new EngineException(Kind.INTERNAL, "token listener failed: " + e.getMessage(), e));
            abort();
            return false;
        } finally {
            delivering.unlock();
            settleIfStopped();
        }
    }

    /** The body ended (cause null) or the exchange failed: the finished result, or the failure. */
    @Override
    protected void failedWith(Throwable cause) {
        delivering.lock();
        try {
            if (settled()) {
                return;
            }
            if (chunks.finishReason() != null) {
                settle(finalResult(), null); // finished, but the server ended without [DONE]: the answer is whole
                return;
            }
            Stop reason = stop.get();
            if (reason == Stop.CANCELLED || reason == Stop.TIMEOUT) {
                return;
            }
            Throwable e = cause == null ? new IOException("stream ended")
                    : cause instanceof CompletionException && cause.getCause() != null ? cause.getCause() : cause;
            if (e instanceof NdjsonBody.LineTooLong tooLong) {
                finishExceptionally(new EngineException(Kind.PROTOCOL, "the OpenAI-compatible server at " + errors.base()
                        + " sent a line longer than " + tooLong.maxLineBytes() / 1024 + " KiB (after " + chunks.deltas()
                        + " tokens): the turn was stopped (limit: STREAMING_LLM_MAX_UPSTREAM_LINE_KB)", e));
            } else if (TransportFailures.isUnreachable(e)) {
                finishExceptionally(errors.unreachable(e));
            } else if (e instanceof IOException || e instanceof CancellationException) {
                finishExceptionally(new EngineException(Kind.DROPPED, "the OpenAI-compatible server at " + errors.base()
                        + " closed the stream before it finished (" + errors.redact(TransportFailures.describe(e)) + ", after "
                        + chunks.deltas() + " tokens)", e));
            } else {
                finishExceptionally(new EngineException(Kind.INTERNAL, "calling the OpenAI-compatible server failed: "
                        + errors.redact(TransportFailures.describe(e)), e));
            }
        } finally {
            delivering.unlock();
            settleIfStopped();
        }
    }

    private GenerationResult finalResult() {
        long total = System.nanoTime() - start;
        long firstToken = chunks.firstTokenNanos() > 0 ? chunks.firstTokenNanos() - start : total;
        boolean usage = chunks.promptTokens() >= 0;
        FinishReason finish = chunks.finishReason() == null ? FinishReason.STOP : chunks.finishReason();
        return new GenerationResult(chunks.text(), finish, chunks.promptTokens(),
                chunks.completionTokens() >= 0 ? chunks.completionTokens() : chunks.deltas(),
                total, 0, firstToken, total - firstToken, usage, chunks.toolCalls());
    }

    @Override
    protected EngineException timedOut() {
        return new EngineException(Kind.TIMEOUT, "the OpenAI-compatible server at " + errors.base()
                + " sent nothing for " + Duration.ofNanos(idleTimeoutNanos).toMillis() + " ms ("
                + (chunks.deltas() == 0 ? "no token yet" : "after " + chunks.deltas() + " tokens")
                + "); the request was aborted");
    }

    @Override
    protected void finishCancelled() {
        settle(new GenerationResult(chunks.text(), FinishReason.CANCELLED, -1, chunks.deltas(),
                System.nanoTime() - start, 0, 0, 0, false), null);
    }

    /**
     * A non-200 answer: its (bounded) body becomes the failure, settled once no event is being handled; a 429 that
     * says to come back within {@code maxRetryWait} is sent again once, after that wait.
     */
    @Override
    protected void failedWithStatus(int status, HttpHeaders headers, byte[] bytes, UpstreamRequest request) {
        delivering.lock();
        try {
            if (settled() || stop.get() != null) {
                return;
            }
            Duration retryAfter = status == 429 ? OpenAiErrors.retryAfter(headers) : null;
            if (retryAfter != null && !retried && retryAfter.compareTo(maxRetryWait) <= 0) {
                retried = true;
                retryAfter(retryAfter, request);
                return;
            }
            finishExceptionally(errors.httpError(status, bytes, "POST /chat/completions", model, retryAfter));
        } finally {
            delivering.unlock();
            settleIfStopped();
        }
    }

    private void retryAfter(Duration wait, UpstreamRequest request) {
        lastActivity = System.nanoTime() + wait.toNanos(); // the wait is not the server being idle
        try {
            watchdog.schedule(() -> {
                if (stop.get() == null && !settled()) {
                    send(request);
                }
            }, wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            stopWith(Stop.CANCELLED);
        }
    }
}
