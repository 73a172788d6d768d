package io.streamingllm.server.health;

import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.server.edge.ApiException;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Whether the engine is usable. Chat routes ask before starting a turn and answer 503 with the probe's advice
 * while it is not; a not-ready engine is probed again at most every {@code reprobe} (a ready one is trusted until
 * a call fails with an unavailable error, see {@link #markUnavailable}).
 *
 * <p>Thread-safe: one per server, asked by every request.
 */
public final class EngineGate {
    private final ModelEngine engine;
    private final long reprobeNanos;
    private final LongSupplier clock;
    private volatile EngineHealth last;
    private volatile long lastProbeNanos;

    public EngineGate(ModelEngine engine, Duration reprobe) {
        this(engine, reprobe, System::nanoTime);
    }

    EngineGate(ModelEngine engine, Duration reprobe, LongSupplier clock) {
        this.engine = engine;
        this.reprobeNanos = reprobe.toNanos();
        this.clock = clock;
    }

    /** Probes now (start-up, {@code /readyz}). */
    public EngineHealth probe() {
        EngineHealth h;
        try {
            h = engine.health();
        } catch (RuntimeException e) {
            h = new EngineHealth(EngineHealth.Status.ERROR, "engine probe failed: " + e.getMessage());
        }
        last = h;
        lastProbeNanos = clock.getAsLong();
        return h;
    }

    /** The latest health, probing again when it was not ready and is older than the re-probe interval. */
    private EngineHealth current() {
        EngineHealth h = last;
        if (h == null || (!h.ready() && clock.getAsLong() - lastProbeNanos >= reprobeNanos)) {
            synchronized (this) {
                h = last;
                if (h == null || (!h.ready() && clock.getAsLong() - lastProbeNanos >= reprobeNanos)) {
                    h = probe();
                }
            }
        }
        return h;
    }

    /** Throws 503 with the engine's advice unless it is ready. */
    public void requireReady() {
        requireReadyFor(null);
    }

    /**
     * As {@link #requireReady()}, for a request that names {@code model} (null: none): the configured model being
     * missing does not stop a request for another one, which the upstream answers for itself (404 when it lacks it
     * too), so a multi-model upstream stays usable without the configured model pulled.
     */
    public void requireReadyFor(String model) {
        EngineHealth h = current();
        if (!h.ready() && !(model != null && h.status() == EngineHealth.Status.MODEL_MISSING)) {
            throw new ApiException(503, "engine_unavailable", h.message());
        }
    }

    /** A call found the engine unavailable: stop trusting the last ready probe. */
    public void markUnavailable(String message) {
        last = new EngineHealth(EngineHealth.Status.UNREACHABLE, message);
        lastProbeNanos = clock.getAsLong();
    }
}
