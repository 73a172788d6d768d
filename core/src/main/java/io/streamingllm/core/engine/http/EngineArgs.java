package io.streamingllm.core.engine.http;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The checks and timers every upstream engine's constructor needs, so that a wrong base URL, an empty model name or
 * a non-positive idle timeout fails the same way (and at the same point) whichever engine was configured.
 */
public final class EngineArgs {
    private EngineArgs() {
    }

    /**
     * The base URL without its trailing slashes, or {@link IllegalArgumentException} with {@code mustBe} (what the
     * engine expects, e.g. {@code Ollama URL must be http(s)://HOST[:PORT]}) when it is not http(s) with a host.
     */
    public static String base(URI baseUri, String mustBe) {
        Objects.requireNonNull(baseUri, "baseUri");
        String scheme = baseUri.getScheme() == null ? "" : baseUri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || baseUri.getHost() == null) {
            throw new IllegalArgumentException(mustBe + ", got " + baseUri);
        }
        String b = baseUri.toString();
        while (b.endsWith("/")) {
            b = b.substring(0, b.length() - 1);
        }
        return b;
    }

    /** The model name, unless it is null or blank. */
    public static String model(String model) {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("model name is empty");
        }
        return model;
    }

    /** The idle timeout in nanoseconds, unless it is null, zero or negative. */
    public static long idleTimeoutNanos(Duration tokenIdleTimeout) {
        if (tokenIdleTimeout == null || tokenIdleTimeout.isNegative() || tokenIdleTimeout.isZero()) {
            throw new IllegalArgumentException("token idle timeout must be positive, got " + tokenIdleTimeout);
        }
        return tokenIdleTimeout.toNanos();
    }

    /**
     * The engine's one timer thread (idle, drain and retry checks of all its calls), a daemon named {@code threadName}.
     * A settled generation cancels its timers; removing them at once lets it be collected now rather than when the
     * idle timeout (minutes) would have fired: under load that is tens of thousands of finished turns.
     */
    public static ScheduledThreadPoolExecutor timers(String threadName) {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }
}
