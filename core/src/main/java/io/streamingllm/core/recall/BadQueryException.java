package io.streamingllm.core.recall;

/** A search query that does not parse (or expands to too many terms): the client's mistake, a 400. */
public final class BadQueryException extends RuntimeException {
    public BadQueryException(String message) {
        super(message);
    }
}
