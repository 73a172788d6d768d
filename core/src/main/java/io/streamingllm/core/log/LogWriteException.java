package io.streamingllm.core.log;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * An append that could not be made durable (disk full, read-only, I/O errors, after the retries): nothing of it
 * stays in the log. The message names the conversation and the operating system's reason.
 */
public final class LogWriteException extends UncheckedIOException {
    public LogWriteException(String message, IOException cause) {
        super(message, cause);
    }
}
