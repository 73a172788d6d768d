package io.streamingllm.core.engine;

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
        BAD_REQUEST
    }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** True when the engine is not usable at all (HTTP 503), as opposed to a failed call (502). */
    public boolean unavailable() {
        return kind == Kind.UNREACHABLE || kind == Kind.MODEL_NOT_FOUND;
    }
}
