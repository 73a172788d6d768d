package io.streamingllm.core.engine.pool;

import java.time.Duration;

/**
 * How a pool places and probes.
 *
 * @param loadFactor       no upstream takes a stream that would put it above {@code loadFactor} × the mean of active
 *                         streams over the upstreams that are up (rounded up); the stream goes to the next in its order
 * @param errorsBeforeDown upstream errors (HTTP 5xx, error records) in a row that take an upstream out; a refused
 *                         connection or a dropped stream takes it out at once
 * @param upProbeInterval  how often an upstream that is up is probed
 * @param backoffBase      first wait before a down upstream is probed; doubles with every failed probe
 * @param backoffMax       longest wait between probes of a down upstream
 */
public record PoolSettings(double loadFactor, int errorsBeforeDown, Duration upProbeInterval, Duration backoffBase,
                           Duration backoffMax) {
    public static final PoolSettings DEFAULTS = new PoolSettings(1.25, 3, Duration.ofSeconds(10),
            Duration.ofSeconds(1), Duration.ofSeconds(30));

    public PoolSettings {
        if (!(loadFactor >= 1.0) || errorsBeforeDown < 1 || backoffBase.isNegative() || backoffBase.isZero()
                || backoffMax.compareTo(backoffBase) < 0 || upProbeInterval.isNegative() || upProbeInterval.isZero()) {
            throw new IllegalArgumentException("invalid pool settings " + loadFactor + ", " + errorsBeforeDown + ", "
                    + upProbeInterval + ", " + backoffBase + ", " + backoffMax);
        }
    }
}
