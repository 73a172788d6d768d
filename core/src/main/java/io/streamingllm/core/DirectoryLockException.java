package io.streamingllm.core;

/**
 * A directory the sidecar needs cannot be owned: another process holds its {@link DirectoryLock}, or it cannot be
 * created or written. The message is one line naming the directory and the reason (and the holder).
 */
public final class DirectoryLockException extends RuntimeException {
    public DirectoryLockException(String message) {
        super(message);
    }

    public DirectoryLockException(String message, Throwable cause) {
        super(message, cause);
    }
}
