package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineException.Kind;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.http.ErrorBody;
import io.streamingllm.core.engine.http.NdjsonBody;
import io.streamingllm.core.engine.http.StreamingHttp;
import io.streamingllm.core.engine.http.UpstreamRequest;
import io.streamingllm.core.engine.http.TransportFailures;

import java.io.IOException;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One streamed chat completion, with the lifecycle of the Ollama engine's calls: the server-sent events are parsed
 * where they arrive (on the HTTP client's thread) and each delta goes straight to the listener; the result is settled
 * (at {@code [DONE]}, failure, cancel, idle timeout) only while no event is being handled, so it completes after the
 * last {@link TokenListener#onToken} call returned. A 429 whose {@code Retry-After} is short is retried once.
 */
final class OpenAiGeneration implements Generation, NdjsonBody.Lines {
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /** How long {@code [DONE]} and the end of the body may lag behind the finish chunk before the result is settled. */
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

    private enum Stop { CANCELLED, TIMEOUT, FINISHED }

    private final StreamingHttp http;
    private final ScheduledExecutorService watchdog;
    private final OpenAiErrors errors;
    private final String model;
    private final long idleTimeoutNanos;
    private final Duration maxRetryWait;
    private final TokenListener listener;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    private final AtomicReference<Stop> stop = new AtomicReference<>();
    /** Held while a signal of the response is handled; a cancel or timeout settles once it is free. */
    private final ReentrantLock delivering = new ReentrantLock();
    private final ChatChunk chunks;
    private final long start = System.nanoTime();
    private volatile long lastActivity = start;
    private volatile CompletableFuture<Void> exchange;
    private volatile NdjsonBody body;
    private volatile boolean settled;
    private volatile ScheduledFuture<?> idleCheck;
    private volatile ScheduledFuture<?> drainCheck;
    private boolean retried;
    private final int maxLineBytes;

    OpenAiGeneration(StreamingHttp http, ScheduledExecutorService timers, OpenAiErrors errors, String model,
                     long idleTimeoutNanos, Duration maxRetryWait, int maxLineBytes, TokenListener listener) {
        this.http = http;
        this.watchdog = timers;
        this.errors = errors;
        this.model = model;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.maxRetryWait = maxRetryWait;
        this.maxLineBytes = maxLineBytes;
        this.listener = listener;
        this.chunks = new ChatChunk(errors);
    }

    @Override
    public CompletableFuture<GenerationResult> result() {
        return result;
    }

    @Override
    public void cancel() {
        stopWith(Stop.CANCELLED);
    }

    void start(UpstreamRequest request) {
        scheduleWatchdog(idleTimeoutNanos);
        send(request);
    }

    private void send(UpstreamRequest request) {
        CompletableFuture<Void> ex;
        try {
            ex = http.send(request, info -> bodyFor(info, request));
        } catch (RuntimeException e) {
            failedWith(e);
            return;
        }
        exchange = ex;
        if (stop.get() != null) {
            ex.cancel(true);
        }
        ex.whenComplete((r, e) -> {
            if (e != null) {
                failedWith(e);
            }
        });
    }

    private HttpResponse.BodySubscriber<Void> bodyFor(HttpResponse.ResponseInfo info, UpstreamRequest request) {
        lastActivity = System.nanoTime();
        if (info.statusCode() != 200) {
            int status = info.statusCode();
            HttpHeaders headers = info.headers();
            return new ErrorBody(MAX_ERROR_BODY, bytes -> failedWithStatus(status, headers, bytes, request), this::failedWith);
        }
        NdjsonBody b = new NdjsonBody(this, maxLineBytes);
        body = b;
        if (stop.get() != null) {
            b.cancel();
        }
        return b;
    }

    private void stopWith(Stop reason) {
        if (stop.compareAndSet(null, reason)) {
            abort();
            settleIfStopped();
        }
    }

    /** Aborts the exchange: before the headers by cancelling it, after them by cancelling the body too. */
    private void abort() {
        CompletableFuture<Void> ex = exchange;
        if (ex != null) {
            ex.cancel(true);
        }
        NdjsonBody b = body;
        if (b != null) {
            b.cancel();
        }
    }

    private void checkIdle() {
        if (stop.get() != null) {
            return;
        }
        long idle = System.nanoTime() - lastActivity;
        if (idle >= idleTimeoutNanos) {
            stopWith(Stop.TIMEOUT);
        } else {
            scheduleWatchdog(idleTimeoutNanos - idle);
        }
    }

    private void scheduleWatchdog(long delayNanos) {
        try {
            idleCheck = watchdog.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
            if (settled) {
                cancelTimer(idleCheck); // settled while this was being scheduled
            }
        } catch (RejectedExecutionException closed) {
            stopWith(Stop.CANCELLED);
        }
    }

    @Override
    public boolean line(byte[] bytes, int offset, int length) {
        delivering.lock();
        try {
            Stop s = stop.get();
            if (s == Stop.CANCELLED || s == Stop.TIMEOUT) {
                return false;
            }
            if (settled) {
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
            if (event.finished() && drainCheck == null) {
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

    @Override
    public void end() {
        failedWith(null);
    }

    @Override
    public void failed(Throwable cause) {
        failedWith(cause);
    }

    /** The body ended (cause null) or the exchange failed: the finished result, or the failure. */
    private void failedWith(Throwable cause) {
        delivering.lock();
        try {
            if (settled) {
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

    /** After a cancel or timeout: settles the result unless an event is being handled (its thread settles then). */
    private void settleIfStopped() {
        Stop reason = stop.get();
        if (reason != Stop.CANCELLED && reason != Stop.TIMEOUT || settled
                || delivering.isHeldByCurrentThread() || !delivering.tryLock()) {
            return;
        }
        try {
            if (reason == Stop.CANCELLED) {
                finishCancelled();
            } else {
                settle(null, new EngineException(Kind.TIMEOUT, "the OpenAI-compatible server at " + errors.base()
                        + " sent nothing for " + Duration.ofNanos(idleTimeoutNanos).toMillis() + " ms ("
                        + (chunks.deltas() == 0 ? "no token yet" : "after " + chunks.deltas() + " tokens")
                        + "); the request was aborted"));
            }
        } finally {
            delivering.unlock();
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

    private void finishCancelled() {
        settle(new GenerationResult(chunks.text(), FinishReason.CANCELLED, -1, chunks.deltas(),
                System.nanoTime() - start, 0, 0, 0, false), null);
    }

    private void finishExceptionally(EngineException e) {
        stop.compareAndSet(null, Stop.FINISHED);
        if (stop.get() == Stop.CANCELLED && e.kind() != Kind.INTERNAL) {
            finishCancelled();
            return;
        }
        settle(null, e);
    }

    /**
     * Completes the result once, from a fresh virtual thread: what callers chain on it must never run on (and
     * could block) the thread reading the response.
     */
    private void settle(GenerationResult r, Throwable failure) {
        if (settled) {
            return;
        }
        settled = true;
        cancelTimer(idleCheck);
        cancelTimer(drainCheck);
        Thread.ofVirtual().name("openai-result").start(() -> {
            if (failure != null) {
                result.completeExceptionally(failure);
            } else {
                result.complete(r);
            }
        });
    }

    /** The usage chunk and {@code [DONE]} follow the finish chunk at once; if they do not, the result is not held up. */
    private void drainGuard() {
        try {
            drainCheck = watchdog.schedule(() -> {
                if (!settled) {
                    abort();
                    failedWith(null);
                }
            }, DRAIN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            if (settled) {
                cancelTimer(drainCheck);
            }
        } catch (RejectedExecutionException closed) {
            // the engine is closing: the exchange is torn down with it
        }
    }

    private static void cancelTimer(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /**
     * A non-200 answer: its (bounded) body becomes the failure, settled once no event is being handled; a 429 that
     * says to come back within {@code maxRetryWait} is sent again once, after that wait.
     */
    private void failedWithStatus(int status, HttpHeaders headers, byte[] bytes, UpstreamRequest request) {
        delivering.lock();
        try {
            if (settled || stop.get() != null) {
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
                if (stop.get() == null && !settled) {
                    send(request);
                }
            }, wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            stopWith(Stop.CANCELLED);
        }
    }
}
