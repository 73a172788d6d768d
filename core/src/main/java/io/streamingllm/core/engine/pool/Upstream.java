package io.streamingllm.core.engine.pool;

import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One member of a pool: its engine, the streams it runs, and whether it takes turns. Thread-safe; the up/down state
 * and its backoff change under this object's lock.
 */
final class Upstream {
    private final String name;
    private final long nameHash;
    private final ModelEngine engine;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder started = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder firstTokens = new LongAdder();
    private final LongAdder firstTokenNanos = new LongAdder();
    private boolean up = true;
    private int consecutiveErrors;
    private long backoffNanos;
    private long nextProbeNanos;
    private long lastProbeNanos;
    private String detail = "";

    Upstream(String name, ModelEngine engine) {
        this.name = name;
        this.nameHash = Rendezvous.nameHash(name);
        this.engine = engine;
    }

    String name() {
        return name;
    }

    long nameHash() {
        return nameHash;
    }

    ModelEngine engine() {
        return engine;
    }

    int active() {
        return active.get();
    }

    void streamStarted() {
        active.incrementAndGet();
        started.increment();
    }

    void streamEnded() {
        active.decrementAndGet();
    }

    void firstToken(long nanos) {
        firstTokens.increment();
        firstTokenNanos.add(nanos);
    }

    synchronized boolean up() {
        return up;
    }

    synchronized void succeeded() {
        consecutiveErrors = 0;
    }

    /**
     * Counts a failed call; returns true when it takes this upstream out: at once when {@code severe} (it cannot be
     * reached, it dropped the stream), else after {@code errorsBeforeDown} errors in a row.
     */
    synchronized boolean failed(String why, boolean severe, int errorsBeforeDown, long now, long baseBackoff) {
        failures.increment();
        consecutiveErrors++;
        if (!up || !(severe || consecutiveErrors >= errorsBeforeDown)) {
            return false;
        }
        up = false;
        detail = why;
        backoffNanos = baseBackoff;
        nextProbeNanos = now + backoffNanos;
        return true;
    }

    /** Whether an active probe is due: a down upstream at its backoff, an up one every {@code upInterval}. */
    synchronized boolean probeDue(long now, long upInterval) {
        return up ? now - lastProbeNanos >= upInterval : now - nextProbeNanos >= 0;
    }

    /**
     * Applies a probe's result; returns +1 when it brought the upstream back, -1 when it took it out, 0 otherwise.
     * A failed probe of a down upstream doubles its backoff up to {@code maxBackoff}. A passing probe of an upstream
     * that is up leaves its run of errors as it is: only a call that succeeds ends that run.
     */
    synchronized int probed(EngineHealth health, long now, long baseBackoff, long maxBackoff) {
        lastProbeNanos = now;
        detail = health.message() == null ? "" : health.message();
        if (health.ready()) {
            if (up) {
                // a health endpoint that answers says nothing of the chat calls that failed: the run goes on
                return 0;
            }
            consecutiveErrors = 0;
            up = true;
            return 1;
        }
        if (up) {
            up = false;
            backoffNanos = baseBackoff;
            nextProbeNanos = now + backoffNanos;
            return -1;
        }
        backoffNanos = Math.min(maxBackoff, backoffNanos * 2);
        nextProbeNanos = now + backoffNanos;
        return 0;
    }

    synchronized UpstreamStatus status() {
        return new UpstreamStatus(name, up, active.get(), started.sum(), failures.sum(), firstTokens.sum(),
                firstTokenNanos.sum(), detail);
    }
}
