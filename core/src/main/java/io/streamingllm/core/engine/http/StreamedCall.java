package io.streamingllm.core.engine.http;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;

import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lifecycle of one streamed call that the Ollama and OpenAI engines share, so that both stop, abort and time
 * out the same way: the exchange is aborted before the headers by cancelling it, after them by cancelling the body;
 * an idle watchdog stops a call that has sent nothing for the idle timeout; a drain guard settles the result when
 * the end of the body lags behind the answer's last record; and the result is settled once, only while no record is
 * being handled, so it completes after the last {@link TokenListener#onToken} call returned. What a record, an error
 * answer or a failure means is the engine's.
 *
 * <p>Thread-safe: signals of the response are handled under {@link #delivering}; cancel and the timers may come
 * from any thread.
 */
public abstract class StreamedCall implements Generation, NdjsonBody.Lines {
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /** How long the end of the body may lag behind the answer's last record before the result is settled anyway. */
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

    /** Why the call stopped taking records. */
    protected enum Stop { CANCELLED, TIMEOUT, FINISHED }

    private final StreamingHttp http;
    /** The engine's timer thread: idle and drain checks, and whatever else the engine waits for. */
    protected final ScheduledExecutorService watchdog;
    protected final long idleTimeoutNanos;
    private final int maxLineBytes;
    private final String resultThread;
    private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    protected final AtomicReference<Stop> stop = new AtomicReference<>();
    /** Held while a signal of the response is handled; a cancel or timeout settles once it is free. */
    protected final ReentrantLock delivering = new ReentrantLock();
    protected final long start = System.nanoTime();
    protected volatile long lastActivity = start;
    private volatile CompletableFuture<Void> exchange;
    private volatile NdjsonBody body;
    private volatile boolean settled;
    private volatile ScheduledFuture<?> idleCheck;
    private volatile ScheduledFuture<?> drainCheck;

    /** @param resultThread the name of the virtual thread that completes the result */
    protected StreamedCall(StreamingHttp http, ScheduledExecutorService timers, long idleTimeoutNanos, int maxLineBytes,
                           String resultThread) {
        this.http = http;
        this.watchdog = timers;
        this.idleTimeoutNanos = idleTimeoutNanos;
        this.maxLineBytes = maxLineBytes;
        this.resultThread = resultThread;
    }

    /** The body ended (cause null) or the exchange failed: settles the result as the engine reads that. */
    protected abstract void failedWith(Throwable cause);

    /**
     * A non-200 answer, its (bounded) body read: settles the result as the engine reads that, or sends
     * {@code request} again.
     */
    protected abstract void failedWithStatus(int status, HttpHeaders headers, byte[] body, UpstreamRequest request);

    /** Settles the result of a cancelled call: what was streamed so far. */
    protected abstract void finishCancelled();

    /** The failure of a call the idle watchdog stopped; called while {@link #delivering} is held. */
    protected abstract EngineException timedOut();

    @Override
    public final CompletableFuture<GenerationResult> result() {
        return result;
    }

    @Override
    public final void cancel() {
        stopWith(Stop.CANCELLED);
    }

    /** Starts the idle watchdog and sends the call; once. */
    public final void start(UpstreamRequest request) {
        scheduleWatchdog(idleTimeoutNanos);
        send(request);
    }

    /** Sends the call (again, after a retry's wait); a failure to send settles the result. */
    protected final void send(UpstreamRequest request) {
        CompletableFuture<Void> ex;
        try {
            ex = http.send(request, info -> bodyFor(info, request));
        } catch (RuntimeException e) {
            failedWith(e);
            return;
        }
        exchange = ex;
        if (stoppedEarly()) {
            ex.cancel(true); // a cancel or timeout that came before the exchange was there to abort
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
        if (stoppedEarly()) {
            b.cancel();
        }
        return b;
    }

    /**
     * Cancelled or timed out. Not {@link Stop#FINISHED}: a short answer can be read to its final record before
     * {@link #send} returns (a loaded machine, the caller's thread descheduled), and aborting it then would close
     * the kept-alive connection its body is about to end on.
     */
    private boolean stoppedEarly() {
        Stop reason = stop.get();
        return reason == Stop.CANCELLED || reason == Stop.TIMEOUT;
    }

    protected final void stopWith(Stop reason) {
        if (stop.compareAndSet(null, reason)) {
            abort();
            settleIfStopped();
        }
    }

    /** Aborts the exchange: before the headers by cancelling it, after them by cancelling the body too. */
    protected final void abort() {
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
    public final void end() {
        failedWith(null);
    }

    @Override
    public final void failed(Throwable cause) {
        failedWith(cause);
    }

    /** After a cancel or timeout: settles the result unless a record is being handled (its thread settles then). */
    protected final void settleIfStopped() {
        Stop reason = stop.get();
        if (reason != Stop.CANCELLED && reason != Stop.TIMEOUT || settled
                || delivering.isHeldByCurrentThread() || !delivering.tryLock()) {
            return;
        }
        try {
            if (reason == Stop.CANCELLED) {
                finishCancelled();
            } else {
                settle(null, timedOut());
            }
        } finally {
            delivering.unlock();
        }
    }

    /**
     * The end of the body (for OpenAI the usage chunk and {@code [DONE]} too) normally follows the answer's last
     * record at once; if it does not, the result is not held up.
     */
    protected final void drainGuard() {
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

    /** True once {@link #drainGuard} has scheduled its check. */
    protected final boolean draining() {
        return drainCheck != null;
    }

    protected final void finishExceptionally(EngineException e) {
        stop.compareAndSet(null, Stop.FINISHED);
        if (stop.get() == Stop.CANCELLED && e.kind() != EngineException.Kind.INTERNAL) {
            finishCancelled();
            return;
        }
        settle(null, e);
    }

    /** True once the result was settled (it may not have completed yet). */
    protected final boolean settled() {
        return settled;
    }

    /**
     * Completes the result once, from a fresh virtual thread: what callers chain on it must never run on (and
     * could block) the thread reading the response.
     */
    protected final void settle(GenerationResult r, Throwable failure) {
        if (settled) {
            return;
        }
        settled = true;
        cancelTimer(idleCheck);
        cancelTimer(drainCheck);
        Thread.ofVirtual().name(resultThread).start(() -> {
            if (failure != null) {
                result.completeExceptionally(failure);
            } else {
                result.complete(r);
            }
        });
    }

    private static void cancelTimer(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
