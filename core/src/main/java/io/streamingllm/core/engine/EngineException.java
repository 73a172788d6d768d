package io.streamingllm.core.engine;

import java.time.Duration;
import java.util.Optional;

/** A failure a user will meet, typed by {@link Kind}; the message says what happened and what to do. */
public class EngineException extends RuntimeException {
    public enum Kind {
        /** The engine cannot be reached (connection refused, unknown host); message names the URL. */
        UNREACHABLE,
        /** The model is not available (message says e.g. {@code ollama pull NAME}). */
        MODEL_NOT_FOUND,
        /** The upstream answered with an error (HTTP status or an {@code {"error":…}} record). */
        UPSTREAM_ERROR,
        /** The upstream closed the connection before the final record. */
        DROPPED,
        /** The upstream sent something that is not its protocol (malformed line). */
        PROTOCOL,
        /** No token arrived within the configured time. */
        TIMEOUT,
        /** The engine failed internally. */
        INTERNAL,
        /**
         * The request asks for something this engine cannot do, e.g. a JSON schema keyword it cannot enforce
         * (HTTP 400); the message names what.
         */
        BAD_REQUEST,
        /** The upstream refused the configured API key (401/403); the message never contains the key. */
        AUTH,
        /** The upstream is rate limiting (429); {@link #retryAfter()} says when to try again, when it said. */
        RATE_LIMITED,
        /** The prompt does not fit the upstream model's context, even after the window was shrunk. */
        CONTEXT_LENGTH
    }

    private final Kind kind;
    private final Duration retryAfter;

    public EngineException(Kind kind, String message) {
        this(kind, message, (Duration) null);
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.retryAfter = null;
    }

    /** A failure the caller may retry after {@code retryAfter} (null: not said). */
    public EngineException(Kind kind, String message, Duration retryAfter) {
        super(message);
        this.kind = kind;
        this.retryAfter = retryAfter;
    }

    public Kind kind() {
        return kind;
    }

    /** When the upstream said to try again ({@code Retry-After}); empty when it did not say. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** True when the engine is not usable at all (HTTP 503), as opposed to a failed call (502). */
    public boolean unavailable() {
        return kind == Kind.UNREACHABLE || kind == Kind.MODEL_NOT_FOUND || kind == Kind.AUTH;
    }
}
