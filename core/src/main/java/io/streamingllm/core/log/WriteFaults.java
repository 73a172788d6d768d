package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What keeps the log from writing now, as its writers last found it, and the waiting between retries. Two sources
 * fail and recover apart: the conversation files ({@link Source#FILES}: appending lines) and the journal
 * ({@link Source#JOURNAL}: preparing a segment, writing or forcing a record). A problem lasts from the first failed
 * attempt until one of the same source succeeds; a writer retries until {@code retry} after the problem began (one
 * outage costs a writer at most that long, however many writers meet it), and is woken early when another
 * succeeds. A warning (the next segment cannot be prepared yet, a checkpoint failed) does not stop writes.
 *
 * <p>Thread-safe: the states are volatile, so the healthy path costs a volatile read; waiting and waking go through
 * one lock and its condition.
 */
final class WriteFaults {
    enum Source { FILES, JOURNAL }

    private static final long FIRST_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MAX_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private record Problem(String detail, long sinceNanos) {
    }

    private final long retryNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile Problem files;
    private volatile Problem journal;
    private volatile String spareWarning;
    private volatile String checkpointWarning;
    private volatile boolean closed;

    WriteFaults(Duration retry) {
        this.retryNanos = retry.toNanos();
    }

    /** An attempt of {@code source} failed: the problem begins now unless it is under way. */
    void failed(Source source, String detail) {
        Problem p = get(source);
        set(source, new Problem(detail, p == null ? System.nanoTime() : p.sinceNanos()));
    }

    /** An attempt of {@code source} succeeded: its problem is over, and writers waiting to retry try now. */
    void ok(Source source) {
        if (get(source) == null) {
            return; // the hot path: nothing to clear
        }
        set(source, null);
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean failing(Source source) {
        return get(source) != null;
    }

    void spareWarning(String detail) {
        spareWarning = detail;
    }

    void checkpointWarning(String detail) {
        checkpointWarning = detail;
    }

    /**
     * After a failed attempt of {@code source}: waits before the next one ({@code attempt} 1 and up: 20 ms,
     * doubling to 500 ms, less when someone succeeds meanwhile) and returns true, or returns false at once when the
     * problem is older than the retry time or the log is closing. An interrupt ends the waiting (false), its status
     * kept.
     */
    boolean awaitRetry(Source source, int attempt) {
        Problem p = get(source);
        if (p == null) {
            return !closed; // someone succeeded since: try again now
        }
        long left = p.sinceNanos() + retryNanos - System.nanoTime();
        if (closed || left <= 0) {
            return false;
        }
        long wait = Math.min(left, Math.min(MAX_WAIT_NANOS, FIRST_WAIT_NANOS << Math.min(attempt - 1, 10)));
        lock.lock();
        try {
            Problem now = get(source);
            if (now != null && now.sinceNanos() == p.sinceNanos() && !closed) {
                changed.awaitNanos(wait);
            }
            return !closed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** The log is closing: nobody waits to retry any more. */
    void close() {
        closed = true;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    LogHealth health() {
        Problem f = files;
        Problem j = journal;
        if (f != null || j != null) {
            String detail = f != null && j != null ? f.detail() + "; " + j.detail() : f != null ? f.detail() : j.detail();
            return new LogHealth(false, detail);
        }
        String spare = spareWarning;
        String checkpoint = checkpointWarning;
        if (spare == null && checkpoint == null) {
            return LogHealth.OK;
        }
        return new LogHealth(true, spare != null && checkpoint != null ? spare + "; " + checkpoint
                : spare != null ? spare : checkpoint);
    }

    /** The operating system's reason for a failed I/O call, without the path Java puts in front of it. */
    static String reason(Throwable e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        if (e instanceof IOException && e.getMessage() != null) {
            return e.getMessage();
        }
        return e.toString();
    }

    private Problem get(Source source) {
        return source == Source.FILES ? files : journal;
    }

    private void set(Source source, Problem p) {
        if (source == Source.FILES) {
            files = p;
        } else {
            journal = p;
        }
    }
}
