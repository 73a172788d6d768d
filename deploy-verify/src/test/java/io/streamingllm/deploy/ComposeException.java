package io.streamingllm.deploy;

/** What {@code docker compose} itself would refuse: a required variable unset, a missing env file, bad syntax. */
public final class ComposeException extends RuntimeException {
    public ComposeException(String message) {
        super(message);
    }
}
