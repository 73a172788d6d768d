package io.streamingllm.core.session;

/** A turn or conversation request that cannot be served, typed by {@link Kind} (the server maps it to a status). */
public final class SessionException extends RuntimeException {
    public enum Kind {
        /** Another turn of this conversation is under way (409). */
        BUSY,
        /** No such agent (404 over HTTP, an error frame over WebSocket). */
        UNKNOWN_AGENT,
        /** The conversation belongs to another agent (409). */
        AGENT_MISMATCH,
        /** The request is malformed (400). */
        BAD_REQUEST,
        /** The message alone is larger than the window (413). */
        TOO_LARGE,
        /** The service is shutting down (503). */
        SHUTTING_DOWN,
        /** The event log cannot write now (disk full, read-only, I/O errors), so nothing can be logged (503). */
        LOG_UNAVAILABLE
    }

    private final Kind kind;

    public SessionException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
