package io.streamingllm.core.log;

/**
 * Whether the event log can take appends now ({@link EventLog#health}): {@code writable} false while its files or
 * its journal fail to write (disk full, read-only, I/O errors), with the operating system's reason in
 * {@code detail}; a writable log may still carry a warning there (its next journal segment cannot be prepared
 * yet). Immutable.
 */
public record LogHealth(boolean writable, String detail) {
    public static final LogHealth OK = new LogHealth(true, "");

    public LogHealth {
        detail = detail == null ? "" : detail;
    }
}
