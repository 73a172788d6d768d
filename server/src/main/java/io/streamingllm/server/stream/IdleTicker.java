package io.streamingllm.server.stream;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Tells waiting {@link TokenOutbox} writers that their idle interval has passed: one thread for every outbox, instead
 * of a timed wait in each. On a virtual thread a timed wait registers a timer with the carrier pool's scheduler thread
 * and cancels it when a record comes first, which wakes that thread twice (system calls and context switches) for a
 * wait that almost never times out; a streamed turn waits like that several times. Writers here wait without a
 * deadline, and this thread marks the ones idle for longer than their interval, at most a quarter of it late
 * (1 ms to 250 ms).
 *
 * <p>Thread-safe. One daemon thread, started when the first outbox waits; it parks without a deadline once no outbox has
 * waited for {@value #KEEP_TICKING_SECONDS} s.
 */
final class IdleTicker {
    static final int KEEP_TICKING_SECONDS = 60;
    private static final long MIN_PERIOD = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_PERIOD = TimeUnit.MILLISECONDS.toNanos(250);
    private static final IdleTicker SHARED = new IdleTicker();

    /** The outboxes whose writer waits, and each one's idle interval. */
    private final Map<TokenOutbox, Long> waiting = new ConcurrentHashMap<>();
    private final Thread thread;
    /** Set while the thread parks without a deadline: a new outbox must wake it. */
    private volatile boolean asleep;

    private IdleTicker() {
        thread = Thread.ofPlatform().daemon().name("stream-idle-ticker").start(this::run);
    }

    static IdleTicker shared() {
        return SHARED;
    }

    /** {@code outbox}'s writer waits: mark it idle each time {@code idleNanos} pass with nothing written. */
    void watch(TokenOutbox outbox, long idleNanos) {
        waiting.put(outbox, idleNanos);
        if (asleep) {
            LockSupport.unpark(thread);
        }
    }

    void unwatch(TokenOutbox outbox) {
        waiting.remove(outbox);
    }

    private void run() {
        long lastWaiter = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            long shortest = Long.MAX_VALUE;
            for (Map.Entry<TokenOutbox, Long> e : waiting.entrySet()) {
                e.getKey().markIdleIfDue(now, e.getValue());
                shortest = Math.min(shortest, e.getValue());
            }
            if (shortest != Long.MAX_VALUE) {
                lastWaiter = now;
            } else if (now - lastWaiter > TimeUnit.SECONDS.toNanos(KEEP_TICKING_SECONDS)) {
                asleep = true;
                if (waiting.isEmpty()) { // checked after announcing the sleep: a watch() since then wakes it
                    LockSupport.park(this);
                }
                asleep = false;
                lastWaiter = System.nanoTime();
                continue;
            }
            LockSupport.parkNanos(this, Math.clamp(shortest / 4, MIN_PERIOD, MAX_PERIOD));
        }
    }
}
