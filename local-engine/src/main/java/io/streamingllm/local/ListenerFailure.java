package io.streamingllm.local;

/** A failure thrown by the caller's token listener, kept apart from the engine's own failures. */
final class ListenerFailure extends RuntimeException {
    ListenerFailure(RuntimeException cause) {
        super(cause);
    }
}
